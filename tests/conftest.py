"""Shared fixtures: API clients logged in as real users, teams with roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from taskflow_core.accounts.models import User
from taskflow_core.common.handoff import handoff
from taskflow_core.common.redis_guard import redis_guard
from taskflow_core.teams.models import Membership, Role, Team

PASSWORD = "a-Long-and-unusual-passphrase-42"


@pytest.fixture(autouse=True)
def closed_redis_breaker() -> Iterator[None]:
    """Every test starts with the request path's Redis breaker closed, whatever a test before
    it broke."""
    redis_guard.reset()
    handoff.reset()
    yield
    redis_guard.reset()
    handoff.reset()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, **extra: Any) -> User:
        # Users in tests have confirmed their address unless a test says otherwise.
        extra.setdefault("email_verified_at", timezone.now())
        return User.objects.create_user(
            username=username, email=f"{username}@example.com", password=PASSWORD, **extra
        )

    return make


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """`api(user)` is a client sending that user's access token; `api(None)` is anonymous."""

    def client_for(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            token = RefreshToken.for_user(user).access_token
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return client_for


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user("bob")


@pytest.fixture
def mallory(make_user: Callable[..., User]) -> User:
    """A user in no team of the others."""
    return make_user("mallory")


@pytest.fixture
def team(alice: User, bob: User) -> Team:
    """Alice owns it, Bob is a member."""
    team = Team.objects.create(name="Platform")
    Membership.objects.create(team=team, user=alice, role=Role.OWNER)
    Membership.objects.create(team=team, user=bob, role=Role.MEMBER)
    return team
