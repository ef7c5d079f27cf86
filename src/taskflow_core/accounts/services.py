"""Every write to accounts and their tokens: registration, JWT issue and revoke."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from taskflow_core.accounts.models import User


def _duplicate_errors(*, username: str, email: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["A user with that email already exists."]
    return errors


@transaction.atomic
def user_create(*, username: str, email: str, password: str) -> User:
    email = User.objects.normalize_email(email)
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
            _duplicate_errors(username=username, email=email)
            or {"username": ["A user with that username already exists."]}
        ) from exc
    return user


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def token_pair_issue(*, user: User) -> TokenPair:
    """A fresh access/refresh pair; the refresh is recorded so it can be rotated and revoked."""
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


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
    verified without a database lookup, here and by the realtime service.
    """
    _RefreshTokenEvenIfRevoked(refresh).blacklist()  # type: ignore[arg-type]
