"""The auth endpoints are rate limited in the API itself (counters in Redis, shared by every
core process): over the limit is a 429 with `Retry-After` and a JSON body."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def client_from_new_address() -> APIClient:
    # Counters are per address: a fresh one per test keeps tests from sharing them.
    octets = uuid.uuid4().bytes[:3]
    return APIClient(REMOTE_ADDR="10." + ".".join(str(octet) for octet in octets))


def lower(settings: Settings, scope: str, rate: str) -> None:
    settings.TASKFLOW_THROTTLE_RATES = {**settings.TASKFLOW_THROTTLE_RATES, scope: rate}


@pytest.mark.parametrize(
    ("scope", "path", "body"),
    [
        ("login", "/api/v1/auth/token/", {"username": "alice", "password": "wrong"}),
        ("register", "/api/v1/auth/register/", {"username": "x"}),
        ("refresh", "/api/v1/auth/token/refresh/", {"refresh": "garbage"}),
        ("verify_email", "/api/v1/auth/verify-email/", {"token": "garbage"}),
    ],
)
def test_anonymous_auth_endpoints_are_limited_per_address(
    settings: Settings, alice: User, scope: str, path: str, body: dict[str, str]
) -> None:
    lower(settings, scope, "3/minute")
    client = client_from_new_address()

    statuses = [client.post(path, body, format="json").status_code for _ in range(3)]
    refused = client.post(path, body, format="json")

    assert 429 not in statuses
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/json"
    assert "throttled" in refused.json()["detail"].lower()
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Another address is not held back by this one.
    assert client_from_new_address().post(path, body, format="json").status_code != 429


@pytest.mark.parametrize(
    ("scope", "path", "body"),
    [
        ("password", "/api/v1/auth/password/", {"old_password": "wrong", "new_password": "x"}),
        ("verify_email_resend", "/api/v1/auth/verify-email/resend/", {}),
    ],
)
def test_signed_in_endpoints_are_limited_per_user(
    settings: Settings,
    make_user: Callable[..., User],
    api: Callable[[User | None], APIClient],
    scope: str,
    path: str,
    body: dict[str, str],
) -> None:
    lower(settings, scope, "2/hour")
    user = make_user("carol", email_verified_at=None)
    # User ids restart with every test database; a counter from an earlier run must not count.
    cache.delete(f"taskflow:throttle:{scope}:user-{user.pk}")
    client = api(user)

    statuses = [client.post(path, body, format="json").status_code for _ in range(2)]
    refused = client.post(path, body, format="json")

    assert 429 not in statuses
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600


def test_a_correct_password_is_refused_too_once_the_limit_is_reached(
    settings: Settings, alice: User
) -> None:
    lower(settings, "login", "2/minute")
    client = client_from_new_address()
    for _ in range(2):
        client.post("/api/v1/auth/token/", {"username": "alice", "password": "no"}, format="json")

    response = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
