"""Every write to accounts and their tokens: registration, email verification, JWT issue,
refresh and revocation. Nothing here emits events: the workflows that must also tell the
realtime service (`identity.services`) build on these."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from taskflow_core.accounts.models import User
from taskflow_core.accounts.verification import email_verification_user
from taskflow_core.common.text import USERNAME_MAX_LENGTH

USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "A user with that email already exists."


def username_normalize(username: str) -> str:
    """NFKC, as Django does: fullwidth `alice` (U+FF41...) and `alice` are one name."""
    return str(User.normalize_username(username))


def _duplicate_errors(*, username: str, email: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    users = User.objects.annotate(username_lower=Lower("username"), email_lower=Lower("email"))
    if users.filter(username_lower=username.lower()).exists():
        errors["username"] = [USERNAME_TAKEN]
    if users.filter(email_lower=email.lower()).exists():
        errors["email"] = [EMAIL_TAKEN]
    return errors


def _username_errors(username: str) -> list[str]:
    if len(username) > USERNAME_MAX_LENGTH:
        return [f"Ensure this field has no more than {USERNAME_MAX_LENGTH} characters."]
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        return list(exc.messages)
    return []


@transaction.atomic
def user_create(*, username: str, email: str, password: str) -> User:
    """A new, unverified account. Uniqueness of the username and the address, both ignoring
    case, is the database's (a unique index on lower(...)): a concurrent registration of a case
    variant fails at the insert and is answered like any duplicate."""
    username = username_normalize(username)
    email = User.objects.normalize_email(email)
    if name_errors := _username_errors(username):  # NFKC may lengthen or change a name
        raise ValidationError({"username": name_errors})
    errors = _duplicate_errors(username=username, email=email)
    user = User(username=username, email=email)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # A concurrent registration took the name or address between our check and insert.
        raise ValidationError(
            _duplicate_errors(username=username, email=email) or {"username": [USERNAME_TAKEN]}
        ) from exc
    return user


@transaction.atomic
def user_email_verify(*, token: str) -> User:
    """Mark the address the token was issued for as verified. A token works once: verifying
    changes what it was signed over. Raises `ValidationError` naming `token` otherwise."""
    user = email_verification_user(token)
    if user is None:
        raise ValidationError({"token": ["Invalid, expired or already used verification token."]})
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.email_verified_at is not None or locked.email != user.email:
        raise ValidationError({"token": ["Invalid, expired or already used verification token."]})
    locked.email_verified_at = timezone.now()
    locked.save(update_fields=["email_verified_at"])
    return locked


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _issued_at(token: RefreshToken) -> int:
    return int(token.get("iat", 0))


def token_pair_issue(*, user: User) -> TokenPair:
    """A fresh access/refresh pair; the refresh is recorded so it can be rotated and revoked.

    Tokens carry whole seconds (`iat`); a revocation refuses every token issued in the second it
    happened (`user_tokens_revoke`). A pair asked for within that same second waits for the
    next one (at most a second, only right after a revocation) so that it is not born revoked.
    """
    if user.tokens_valid_after is not None:
        wait = user.tokens_valid_after.timestamp() - time.time()
        if 0 < wait <= 1:
            time.sleep(wait + 0.001)
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def token_revoked(*, user: User, issued_at: int) -> bool:
    """Whether a token issued at `issued_at` (unix seconds) predates the user's revocation."""
    valid_after = user.tokens_valid_after
    return valid_after is not None and issued_at < valid_after.timestamp()


@transaction.atomic
def token_pair_refresh(*, refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair, blacklisting it: each refresh works exactly once.

    Raises `TokenError` for a token that is invalid, expired, not a refresh token, already
    used or revoked, or whose user is gone or inactive.
    """
    # Checks signature, expiry, type and blacklist. (simplejwt annotates the argument as `Token`.)
    token = RefreshToken(refresh)  # type: ignore[arg-type]
    token.outstand()
    # Two requests racing with the same token serialize here; the second sees the blacklist.
    outstanding = OutstandingToken.objects.select_for_update().get(
        jti=token[jwt_settings.JTI_CLAIM]
    )
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        raise TokenError("Token is blacklisted")
    user_id = token.get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise TokenError("No active account found for the given token.")
    if token_revoked(user=user, issued_at=_issued_at(token)):
        raise TokenError("Token is blacklisted")
    BlacklistedToken.objects.create(token=outstanding)
    return token_pair_issue(user=user)


class _RefreshTokenEvenIfRevoked(RefreshToken):
    """A refresh token checked for signature, expiry and type, but not the blacklist."""

    def check_blacklist(self) -> None:
        """Logging out twice is not an error: the token is revoked either way."""


@transaction.atomic
def token_blacklist(*, refresh: str) -> None:
    """Revoke a refresh token (logout). Raises `TokenError` for anything not a live refresh token.

    Access tokens already handed out stay valid until they expire (minutes): they are
    verified without a database lookup by the realtime service. (`user_tokens_revoke` is the
    logout that reaches them too.)
    """
    _RefreshTokenEvenIfRevoked(refresh).blacklist()  # type: ignore[arg-type]


@transaction.atomic
def user_tokens_revoke(*, user: User) -> int:
    """Refuse every token the user holds: blacklist all their outstanding refresh tokens and
    refuse access tokens issued before now. Returns the cut-off in unix seconds (`before`).

    `iat` has whole seconds, so the cut-off is rounded up: a token issued in the same second,
    before or after this call, is refused too (`token_pair_issue` waits out that second).
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = math.ceil(time.time())
    previous = locked.tokens_valid_after
    if previous is None or previous.timestamp() < before:
        locked.tokens_valid_after = datetime.fromtimestamp(before, tz=UTC)
        locked.save(update_fields=["tokens_valid_after"])
    user.tokens_valid_after = locked.tokens_valid_after
    live = OutstandingToken.objects.filter(user=locked, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return before
