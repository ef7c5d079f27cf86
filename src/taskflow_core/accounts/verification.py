"""Email verification tokens: signed, expiring, single-use, and bound to one address.

The token is `signing.dumps({user, state})` with a timestamp. `state` is an HMAC over the
user's id, address and verification time, so a token stops working once the address is
verified (single use) or changed (bound to the address it was sent to). Nothing is stored.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from taskflow_core.accounts.models import User

SALT = "taskflow.accounts.email-verification"
TOKEN_MAX_LENGTH = 500


def _state(user: User) -> str:
    verified = user.email_verified_at.isoformat() if user.email_verified_at else ""
    return salted_hmac(SALT, f"{user.pk}:{user.email.lower()}:{verified}").hexdigest()[:32]


def email_verification_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "state": _state(user)}, salt=SALT)


def email_verification_user(token: str) -> User | None:
    """The user a live token was issued to, or None (bad signature, expired, used, stale)."""
    if len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        payload = signing.loads(
            token, salt=SALT, max_age=settings.TASKFLOW_EMAIL_VERIFICATION_MAX_AGE_SECONDS
        )
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        return None
    user = User.objects.filter(pk=payload["user"], is_active=True).first()
    if user is None or not constant_time_compare(str(payload.get("state", "")), _state(user)):
        return None
    return user
