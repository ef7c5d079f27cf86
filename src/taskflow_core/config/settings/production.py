"""Production: every secret from the environment, HTTPS in front of the gateway."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_list

if len(SECRET_KEY) < 32 or SECRET_KEY.startswith(("change", "django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be a long random value in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Browsers drop Secure cookies sent over plain HTTP (except to localhost), and the admin login
# with them. `TASKFLOW_PLAIN_HTTP=true` is for a stack reached over plain HTTP only, such as the
# compose gateway on a LAN (deploy/.env.example, docs/operations.md); unset, cookies are Secure.
PLAIN_HTTP = os.environ.get("TASKFLOW_PLAIN_HTTP", "") == "true"
SESSION_COOKIE_SECURE = not PLAIN_HTTP
CSRF_COOKIE_SECURE = not PLAIN_HTTP
SECURE_CONTENT_TYPE_NOSNIFF = True
