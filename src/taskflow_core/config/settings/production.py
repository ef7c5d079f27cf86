"""Production: every secret from the environment, HTTPS behind the gateway."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_list

if len(SECRET_KEY) < 32 or SECRET_KEY.startswith(("change", "django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be a long random value in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
