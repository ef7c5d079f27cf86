"""`make test`: real PostgreSQL and Redis, fast password hashing, mail kept in memory.

`make test` provides every variable below (`python -m taskflow_local exec`). Where it has not run
(mypy's Django plugin, an editor, a bare `pytest`), harmless placeholders let the settings load;
they sign no valid token and point at sockets that do not exist, so nothing is reached.
"""

import os

_PLACEHOLDERS = {
    "SECRET_KEY": "test-settings-placeholder-not-a-secret",
    "DATABASE_URL": "postgresql://unset@%2Fnonexistent%2Ftaskflow-unset/unset",
    "REDIS_URL": "unix:///nonexistent/taskflow-unset.sock",
    "JWT_PRIVATE_KEY": "unset: run through `make test` for the generated key pair",
    "JWT_PUBLIC_KEY": "unset: run through `make test` for the generated key pair",
}
for _name, _value in _PLACEHOLDERS.items():
    # A key given as a file counts as given.
    if not os.environ.get(_name) and not os.environ.get(f"{_name}_FILE"):
        os.environ[_name] = _value

from .base import *  # noqa: E402, F403

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

# In-process tests share two loaded cores with other processes: a 25 ms read timeout would trip
# now and then and leave events to a relay most tests do not run. Tests of the bound itself
# start gunicorn with the production default (tests/reliability/).
TASKFLOW_REQUEST_REDIS_BUDGET_MS = int(os.environ.get("TASKFLOW_REQUEST_REDIS_BUDGET_MS") or 500)
