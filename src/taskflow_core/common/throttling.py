"""Rate limits on the auth endpoints, in the API as well as at the gateway (docs/api.md,
"Throttling"). Counters live in the Redis cache, so every core process shares them.

Rates come from `settings.TASKFLOW_THROTTLE_RATES` at request time (not at import, as DRF's
own `THROTTLE_RATES` would), so a deployment tunes them by environment and a test can lower
one for itself. A refused request is a 429 with `Retry-After` and a JSON `detail`.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class ScopedThrottle(SimpleRateThrottle):
    """Per client address; per user instead when the request is authenticated."""

    scope = ""
    cache_format = "taskflow:throttle:%(scope)s:%(ident)s"

    def get_rate(self) -> str | None:
        rate: str | None = settings.TASKFLOW_THROTTLE_RATES.get(self.scope)
        return rate

    def get_cache_key(self, request: Request, view: APIView) -> str:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            ident = f"user-{user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginThrottle(ScopedThrottle):
    scope = "login"


class RegisterThrottle(ScopedThrottle):
    scope = "register"


class RefreshThrottle(ScopedThrottle):
    scope = "refresh"


class PasswordThrottle(ScopedThrottle):
    scope = "password"


class EmailVerifyThrottle(ScopedThrottle):
    scope = "verify_email"


class EmailVerificationResendThrottle(ScopedThrottle):
    scope = "verify_email_resend"
