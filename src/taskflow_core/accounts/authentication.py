"""API authentication: simplejwt's access tokens, refused once their user revoked them; and the
signed-in user of a request, typed for the views that require one."""

from __future__ import annotations

import threading
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from taskflow_core.accounts.models import User
from taskflow_core.accounts.services import token_revoked


class VerifiedTokens:
    """Access tokens whose signature and claims checked out, by their exact bytes, so that a
    client's next requests skip the RS256 verification and the token parsing (a tenth of a
    create's CPU, bench/NOTES.md "P2"). The expiry is checked again on every use; whatever
    else a token's validity depends on (the user, revocation) is read per request anyway.
    Bounded: past `size` entries the oldest goes."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._tokens: dict[bytes, Token] = {}
        self._lock = threading.Lock()

    def get(self, raw: bytes) -> Token | None:
        token = self._tokens.get(raw)
        if token is None:
            return None
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            with self._lock:
                self._tokens.pop(raw, None)
            return None
        return token

    def add(self, raw: bytes, token: Token) -> None:
        with self._lock:
            if len(self._tokens) >= self.size:
                self._tokens.pop(next(iter(self._tokens)))
            self._tokens[raw] = token


class RevocableJWTAuthentication(JWTAuthentication):
    """An access token issued before the user's password change, "log out everywhere" or
    deactivation is a 401, although its signature and expiry are fine. (simplejwt already
    loads the user on every request; the check costs nothing more.)"""

    verified = VerifiedTokens()

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = self.verified.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            self.verified.add(raw_token, token)
        return token

    def __init__(self, *, defer_user_check: bool = False) -> None:
        """`defer_user_check`: for a view whose write checks its user in its own statement
        (the task create): the token is verified (signature, expiry, type; remembered) and
        `request.user` is its `TokenBearer`, the row not read here: one round trip and ~10 % of
        a create's CPU fewer (bench/NOTES.md, "P2"). Such a view acts only through
        `request_user` or a statement that checks the bearer, and calls `request_user` on
        every other path (docs/architecture.md, "The one exception")."""
        super().__init__()
        self.defer_user_check = defer_user_check

    # simplejwt types the result as its own user union; ours is a real `User` (or a bearer).
    def get_user(self, validated_token: Any) -> User | TokenBearer:  # type: ignore[override]
        """simplejwt's checks (the user exists and is active) and ours (the token is not
        revoked), reading the row with SQL built once instead of an ORM query built per
        request: the user is read on every API request, and building the query cost three
        times its round trip."""
        bearer = token_bearer(validated_token)
        if self.defer_user_check:
            return bearer
        return acting_user(bearer.pk, bearer.issued_at)


class TokenBearer:
    """Who a verified access token names, before their row is read: the user's id and when the
    token was issued. Whether they may still act (they exist, are active, and the token is not
    revoked) is not known yet. It is checked by whoever acts first: `request_user` reads the
    row (a 401 if not), and the task create's statement checks it in SQL, writing nothing if not
    (`tasks/clock.py`). Only `RevocableJWTAuthentication(defer_user_check=True)` makes one."""

    is_authenticated = True  # the token is: DRF's `IsAuthenticated` asks only that
    is_anonymous = False

    def __init__(self, user_id: int, issued_at: int) -> None:
        self.pk = self.id = user_id
        self.issued_at = issued_at

    def __repr__(self) -> str:
        return f"TokenBearer(user_id={self.pk})"


def token_bearer(validated_token: Any) -> TokenBearer:
    try:
        user_id = int(validated_token[api_settings.USER_ID_CLAIM])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("Token contained no recognizable user identification") from exc
    return TokenBearer(user_id, int(validated_token.get("iat", 0)))


def acting_user(user_id: int, issued_at: int) -> User:
    """The user a token issued at `issued_at` names, if they may act: 401 otherwise (the user
    is gone, inactive, or revoked the token)."""
    user = user_by_id(user_id)
    if user is None:
        raise AuthenticationFailed("User not found", code="user_not_found")
    if not user.is_active:
        raise AuthenticationFailed("User is inactive", code="user_inactive")
    if token_revoked(user=user, issued_at=issued_at):
        raise AuthenticationFailed("Token has been revoked.", code="token_revoked")
    return user


_USER_FIELDS = User._meta.concrete_fields
# Model metadata only (column and table names), never input.
_USER_SQL = "SELECT {columns} FROM {table} WHERE {pk} = %s".format(  # noqa: S608
    columns=", ".join(str(field.column) for field in _USER_FIELDS),
    table=User._meta.db_table,
    pk=User._meta.pk.column if User._meta.pk is not None else "id",
)


def user_by_id(user_id: int) -> User | None:
    """The user row as the ORM would load it (its fields' database converters applied)."""
    if not 0 < user_id < 2**63:
        return None
    row = _user_row(user_id)
    if row is None:
        return None
    values = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(_USER_FIELDS, row, strict=True)
    ]
    return User.from_db(connection.alias, [field.attname for field in _USER_FIELDS], values)


def _user_row(user_id: int) -> tuple[Any, ...] | None:
    """The row, read by the request's first query, which is also the connection's health check.

    With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before a request's first query on a
    connection kept from an earlier request, and replaces the connection if that fails. Every
    API request reads its user first, so the read itself is the check: a connection that died
    between requests fails it, and the read is sent once more on a new connection. One round
    trip per request fewer, and the same guarantee (`tests/reliability/test_database.py`)."""
    # Django's own state for the check (`BaseDatabaseWrapper`, since 4.1; not in its stubs).
    database: Any = connection
    if (
        database.connection is not None
        and database.health_check_enabled
        and not database.health_check_done
    ):
        database.health_check_done = True  # this read is the check
        try:
            return _select_user(user_id)
        except (InterfaceError, OperationalError):
            database.close()  # the next cursor connects afresh
    return _select_user(user_id)


def _select_user(user_id: int) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(_USER_SQL, [user_id])
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


class RevocableJWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    """The OpenAPI security scheme: the same bearer JWT as simplejwt's."""

    target_class = "taskflow_core.accounts.authentication.RevocableJWTAuthentication"


def request_user(request: Request) -> User:
    """The authenticated `User`, checked: a `TokenBearer`'s row is read here (401 if they may not
    act), once per request. Views behind `IsAuthenticated` never reach the `NotAuthenticated`."""
    user = request.user
    if isinstance(user, TokenBearer):
        user = acting_user(user.pk, user.issued_at)
        request.user = user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


def request_actor(request: Request) -> User | TokenBearer:
    """The request's user as its authentication left it: a `User`, or a `TokenBearer` whose
    checks are still to be made (see `TokenBearer`)."""
    user = request.user
    if isinstance(user, User | TokenBearer):
        return user
    raise NotAuthenticated()
