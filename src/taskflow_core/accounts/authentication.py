"""API authentication: simplejwt's access tokens, refused once their user revoked them; and the
signed-in user of a request, typed for the views that require one."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

from taskflow_core.accounts.models import User
from taskflow_core.accounts.services import token_revoked


class RevocableJWTAuthentication(JWTAuthentication):
    """An access token issued before the user's password change, "log out everywhere" or
    deactivation is a 401, although its signature and expiry are fine. (simplejwt already
    loads the user on every request; the check costs nothing more.)"""

    # simplejwt types the result as its own user union; ours is always a real `User`.
    def get_user(self, validated_token: Any) -> User:  # type: ignore[override]
        user = super().get_user(validated_token)
        if not isinstance(user, User):
            raise AuthenticationFailed("User not found", code="user_not_found")
        if token_revoked(user=user, issued_at=int(validated_token.get("iat", 0))):
            raise AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return user


class RevocableJWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    """The OpenAPI security scheme: the same bearer JWT as simplejwt's."""

    target_class = "taskflow_core.accounts.authentication.RevocableJWTAuthentication"


def request_user(request: Request) -> User:
    """The authenticated `User`; views behind `IsAuthenticated` never reach the raise."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
