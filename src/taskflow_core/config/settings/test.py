"""`make test`: real PostgreSQL and Redis, fast password hashing, mail kept in memory."""

import os

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# High enough never to trip in the suite; a throttling test lowers the rate it tests (in
# settings, or by environment for a process it starts).
TASKFLOW_THROTTLE_RATES = {
    scope: os.environ.get(f"TASKFLOW_THROTTLE_{scope.upper()}") or "100000/minute"
    for scope in ("login", "register", "refresh", "password", "verify_email", "verify_email_resend")
}

# Tests send many emails to one fixture address; the cap's own tests lower it.
TASKFLOW_EMAIL_RECIPIENT_CAP = int(os.environ.get("TASKFLOW_EMAIL_RECIPIENT_CAP") or 1000)
