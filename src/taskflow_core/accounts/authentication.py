"""The signed-in user of a request, typed for the views that require one."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from taskflow_core.accounts.models import User


def request_user(request: Request) -> User:
    """The authenticated `User`; views behind `IsAuthenticated` never reach the raise."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
