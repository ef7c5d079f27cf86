"""Settings shared by every environment; everything secret or deployment-specific comes from env."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parents[4]


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def read_key(name: str) -> str:
    """A PEM key given inline (`NAME`) or as a file path (`NAME_FILE`)."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text()
    raise ImproperlyConfigured(f"Set {name} or {name}_FILE (run through `make run`/`make test`).")


SECRET_KEY = env("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "taskflow_core.accounts",
    "taskflow_core.teams",
    "taskflow_core.tasks",
    "taskflow_core.notifications",
    "taskflow_core.events",
    "taskflow_core.emails",
    "taskflow_core.reminders",
    "taskflow_core.identity",
    "taskflow_core.comments",
    "taskflow_core.idempotency",
    "taskflow_core.monitoring",
]

MIDDLEWARE = [
    # First: each request's Redis budget covers everything after it (docs/reliability.md).
    "taskflow_core.common.redis_guard.RedisBudgetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "taskflow_core.common.content_security.ContentSecurityPolicyMiddleware",
    "taskflow_core.common.middleware.ApiJsonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "taskflow_core.common.middleware.SlashlessApiCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # POST with Idempotency-Key: the view runs in a transaction with the stored answer.
    "taskflow_core.idempotency.middleware.IdempotencyMiddleware",
    # Last: its process_exception runs first, turning a lost database into a 503.
    "taskflow_core.common.database_errors.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "taskflow_core.config.urls"
WSGI_APPLICATION = "taskflow_core.config.wsgi.application"
ASGI_APPLICATION = "taskflow_core.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Persistent connections, checked before each request reuses one: a connection PostgreSQL
# dropped (restart, pg_terminate_backend) is replaced instead of failing the request.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL"), conn_max_age=env_int("TASKFLOW_DB_CONN_MAX_AGE", 60)
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# An unreachable server fails the request (a 503) in seconds, not after the OS's TCP timeout.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
    "TASKFLOW_DB_CONNECT_TIMEOUT_SECONDS", 3
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
# Bounded and failing open (common/cache.py): a Redis outage never blocks or fails a request.
CACHES = {
    "default": {"BACKEND": "taskflow_core.common.cache.BoundedRedisCache", "LOCATION": REDIS_URL}
}
# What a request may spend waiting on Redis in total, and how long it skips Redis after a
# failure (common/redis_guard.py, docs/reliability.md).
TASKFLOW_REQUEST_REDIS_BUDGET_MS = env_int("TASKFLOW_REQUEST_REDIS_BUDGET_MS", 50)
TASKFLOW_REQUEST_REDIS_SUSPEND_MS = env_int("TASKFLOW_REQUEST_REDIS_SUSPEND_MS", 1000)

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Request bodies: the gateway refuses more than this too (client_max_body_size).
TASKFLOW_MAX_BODY_BYTES = env_int("TASKFLOW_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = TASKFLOW_MAX_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

STATIC_URL = "/static/"
# Only `make run` without nginx (local settings) has the core serve /static/ itself.
TASKFLOW_SERVE_STATIC = False
STATIC_ROOT = Path(env("TASKFLOW_STATIC_ROOT", str(BASE_DIR / ".taskflow" / "static")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "taskflow_core.accounts.authentication.RevocableJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["taskflow_core.common.parsers.BoundedJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": (
        "taskflow_core.common.negotiation.RememberingContentNegotiation"
    ),
    "DEFAULT_PAGINATION_CLASS": "taskflow_core.common.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "taskflow_core.common.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Behind the gateway the client's address is the last X-Forwarded-For entry (nginx appends
    # it); set 0 when clients reach the core directly, or they could pick their own address.
    "NUM_PROXIES": env_int("TASKFLOW_NUM_PROXIES", 1),
}

# Auth endpoint limits (common/throttling.py), "<count>/<second|minute|hour|day>".
TASKFLOW_THROTTLE_RATES = {
    "login": env("TASKFLOW_THROTTLE_LOGIN", "20/minute"),
    "register": env("TASKFLOW_THROTTLE_REGISTER", "20/hour"),
    "refresh": env("TASKFLOW_THROTTLE_REFRESH", "60/minute"),
    "password": env("TASKFLOW_THROTTLE_PASSWORD", "10/hour"),
    "verify_email": env("TASKFLOW_THROTTLE_VERIFY_EMAIL", "20/hour"),
    "verify_email_resend": env("TASKFLOW_THROTTLE_VERIFY_EMAIL_RESEND", "5/hour"),
}
TASKFLOW_EMAIL_VERIFICATION_MAX_AGE_SECONDS = env_int(
    "TASKFLOW_EMAIL_VERIFICATION_MAX_AGE_SECONDS", 3 * 86_400
)

SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "SIGNING_KEY": read_key("JWT_PRIVATE_KEY"),
    "VERIFYING_KEY": read_key("JWT_PUBLIC_KEY"),
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

API_DESCRIPTION = """Team tasks with instant notifications.

**Try it here:** 1. `POST /api/v1/auth/register/`, then `POST /api/v1/auth/token/` (*Try it out*,
*Execute*), and copy `access` from the response. 2. Click **Authorize** and paste it (without
`Bearer`). 3. Call any endpoint. An access token lasts 15 minutes (`JWT_ACCESS_MINUTES`);
`POST /api/v1/auth/token/refresh/` trades the refresh token for a new pair.

`GET /api/v1/` lists the entry points; the WebSocket protocol (`/ws`) is in the repository's
`docs/protocol.md`."""

SPECTACULAR_SETTINGS = {
    "TITLE": "TaskFlow Pro API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from /static/ (the sidecar's pinned copy): the docs work offline, and no page
    # of ours loads code from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two `role` fields with different choice sets need names of their own.
    "ENUM_NAME_OVERRIDES": {
        "TeamRoleEnum": "taskflow_core.teams.models.Role",
        "AddableTeamRoleEnum": "taskflow_core.teams.models.ADDABLE_ROLES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "taskflow_core.idempotency.openapi.add_idempotency_key",
    ],
}

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "") == "true"
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "TaskFlow Pro <noreply@taskflow.local>")

TASKFLOW_REMINDER_LEAD_MINUTES = env_int("TASKFLOW_REMINDER_LEAD_MINUTES", 60)
TASKFLOW_DEADLINE_SCAN_SECONDS = env_int("TASKFLOW_DEADLINE_SCAN_SECONDS", 60)
# Email retries: attempt n waits about BACKOFF * 2**(n-1) seconds (with jitter, capped).
TASKFLOW_EMAIL_MAX_ATTEMPTS = env_int("TASKFLOW_EMAIL_MAX_ATTEMPTS", 5)
TASKFLOW_EMAIL_BACKOFF_SECONDS = float(os.environ.get("TASKFLOW_EMAIL_BACKOFF_SECONDS") or 10)
TASKFLOW_EMAIL_BACKOFF_MAX_SECONDS = float(
    os.environ.get("TASKFLOW_EMAIL_BACKOFF_MAX_SECONDS") or 600
)
# At most CAP emails queued to one address per WINDOW (a flood of assignments, say); 0 = no cap.
TASKFLOW_EMAIL_RECIPIENT_CAP = env_int("TASKFLOW_EMAIL_RECIPIENT_CAP", 5)
TASKFLOW_EMAIL_RECIPIENT_WINDOW_SECONDS = env_int("TASKFLOW_EMAIL_RECIPIENT_WINDOW_SECONDS", 600)
# A pending email whose next attempt is this late lost its broker message: queue it again.
TASKFLOW_EMAIL_REQUEUE_AFTER_SECONDS = env_int("TASKFLOW_EMAIL_REQUEUE_AFTER_SECONDS", 300)
TASKFLOW_EMAIL_REQUEUE_SCAN_SECONDS = env_int("TASKFLOW_EMAIL_REQUEUE_SCAN_SECONDS", 60)

# Notification email (docs/background.md): beat looks for digests that are due this often, and
# one minute of a user's `email_delay_minutes` lasts this many seconds (tests shorten it).
TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS = float(
    os.environ.get("TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS") or 15
)
TASKFLOW_EMAIL_DELAY_UNIT_SECONDS = float(os.environ.get("TASKFLOW_EMAIL_DELAY_UNIT_SECONDS") or 60)

# Real-time delivery (docs/events.md). The realtime service reads the same stream variables.
TASKFLOW_EVENT_STREAM = os.environ.get("TASKFLOW_EVENT_STREAM") or "taskflow:{events}"
TASKFLOW_EVENT_STREAM_MAXLEN = env_int("TASKFLOW_EVENT_STREAM_MAXLEN", 100_000)
TASKFLOW_EVENT_STREAM_MAX_AGE_SECONDS = env_int("TASKFLOW_EVENT_STREAM_MAX_AGE_SECONDS", 86_400)
# Entries kept in each user's index (docs/events.md "Layout"); realtime reads the same variable.
TASKFLOW_EVENT_USER_INDEX_MAXLEN = env_int("TASKFLOW_EVENT_USER_INDEX_MAXLEN", 10_000)
TASKFLOW_EVENT_PUBLISHED_TTL_SECONDS = env_int("TASKFLOW_EVENT_PUBLISHED_TTL_SECONDS", 86_400)
TASKFLOW_RELAY_POLL_MS = env_int("TASKFLOW_RELAY_POLL_MS", 250)
TASKFLOW_RELAY_GRACE_MS = env_int("TASKFLOW_RELAY_GRACE_MS", 250)
TASKFLOW_OUTBOX_RETENTION_HOURS = env_int("TASKFLOW_OUTBOX_RETENTION_HOURS", 24)

# Health (docs/reliability.md): degraded (still 200) past these.
TASKFLOW_HEALTH_OUTBOX_AGE_SECONDS = env_int("TASKFLOW_HEALTH_OUTBOX_AGE_SECONDS", 30)
TASKFLOW_HEALTH_RELAY_HEARTBEAT_SECONDS = env_int("TASKFLOW_HEALTH_RELAY_HEARTBEAT_SECONDS", 30)

# Idempotency-Key (docs/api.md, "Retries"): how long an answer is kept, how long a concurrent
# duplicate waits for the first request before a 409, and how many live keys a user may hold.
TASKFLOW_IDEMPOTENCY_TTL_SECONDS = env_int("TASKFLOW_IDEMPOTENCY_TTL_SECONDS", 86_400)
TASKFLOW_IDEMPOTENCY_WAIT_MS = env_int("TASKFLOW_IDEMPOTENCY_WAIT_MS", 10_000)
TASKFLOW_IDEMPOTENCY_MAX_KEYS_PER_USER = env_int("TASKFLOW_IDEMPOTENCY_MAX_KEYS_PER_USER", 10_000)

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request never waits for these (common/handoff.py); they bound the background enqueue.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Longer than the longest email backoff, so scheduled retries are not redelivered early.
    "visibility_timeout": 3600,
}
# A worker started without -Q consumes both; `-Q email` gives slow SMTP a worker of its own.
CELERY_TASK_QUEUES = (Queue("default"), Queue("email"))
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"taskflow_core.emails.tasks.*": {"queue": "email"}}
CELERY_BEAT_SCHEDULE = {
    "deadline-scan": {
        "task": "taskflow_core.reminders.tasks.deadline_scan_task",
        "schedule": float(TASKFLOW_DEADLINE_SCAN_SECONDS),
        # A scan nobody ran in time is superseded by later ones: no pile-up after an outage.
        "options": {"expires": float(max(TASKFLOW_DEADLINE_SCAN_SECONDS, 10))},
    },
    "idempotency-prune": {
        "task": "taskflow_core.idempotency.tasks.idempotency_prune_task",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "email-digest": {
        "task": "taskflow_core.notifications.tasks.email_digest_task",
        "schedule": TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS,
        "options": {"expires": max(TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS, 10.0)},
    },
    "email-requeue": {
        "task": "taskflow_core.emails.tasks.email_requeue_stale_task",
        "schedule": float(TASKFLOW_EMAIL_REQUEUE_SCAN_SECONDS),
        "options": {"expires": float(max(TASKFLOW_EMAIL_REQUEUE_SCAN_SECONDS, 10))},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
