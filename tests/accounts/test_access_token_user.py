"""The API reads the access token's user with its own statement (accounts/authentication.py):
it must refuse exactly what simplejwt refused, and load the user exactly as the ORM does."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.signals import request_started
from django.db import DEFAULT_DB_ALIAS, connection, connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from taskflow_core.accounts.authentication import VerifiedTokens, user_by_id
from taskflow_core.accounts.models import User

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


def get_me(token: Any) -> tuple[int, dict[str, Any]]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(ME)
    return response.status_code, response.json()


def test_a_token_for_a_deleted_user_is_401(make_user: Callable[..., User]) -> None:
    gone = make_user("gone")
    token = AccessToken.for_user(gone)
    gone.delete()

    status, body = get_me(token)

    assert status == 401
    assert body == {"detail": "User not found"}


def test_a_token_for_a_deactivated_user_is_401(make_user: Callable[..., User]) -> None:
    user = make_user("leaving")
    token = AccessToken.for_user(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    status, body = get_me(token)

    assert status == 401
    assert body == {"detail": "User is inactive"}


@pytest.mark.parametrize("claim", ["not-a-number", 2**70, None])
def test_a_signed_token_with_a_nonsense_user_id_is_401(alice: User, claim: Any) -> None:
    token = AccessToken.for_user(alice)
    token["user_id"] = claim

    status, _ = get_me(token)

    assert status == 401


def test_the_user_is_loaded_as_the_orm_loads_it(alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(email_types={"task_assigned": False})
    orm = User.objects.get(pk=alice.pk)

    loaded = user_by_id(alice.pk)

    assert loaded is not None
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(orm, field.attname), field.name
    assert loaded.email_types == {"task_assigned": False}
    assert user_by_id(alice.pk + 10_000) is None


def test_a_token_verified_before_still_expires(make_user: Callable[..., User]) -> None:
    # The process remembers verified tokens (VerifiedTokens); the expiry is checked each time.
    user = make_user("brief")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=1))
    assert get_me(token)[0] == 200
    assert get_me(token)[0] == 200  # from the verified tokens

    time.sleep(1.1)
    status, body = get_me(token)

    assert status == 401
    assert body["code"] == "token_not_valid"


def test_the_verified_tokens_are_bounded_and_keyed_by_the_exact_token() -> None:
    verified = VerifiedTokens(size=2)
    tokens = [AccessToken() for _ in range(3)]
    for number, token in enumerate(tokens):
        verified.add(f"raw-{number}".encode(), token)

    assert verified.get(b"raw-0") is None  # the oldest went
    assert verified.get(b"raw-1") is tokens[1]
    assert verified.get(b"raw-2") is tokens[2]
    assert verified.get(b"raw-2 ") is None


@pytest.mark.django_db(transaction=True)
def test_the_user_read_is_the_connection_s_health_check(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = make_user("alice")
    user_by_id(alice.pk)  # the connection is open, as one kept from an earlier request
    checks: list[bool] = []

    def is_usable() -> bool:
        checks.append(True)
        return True

    monkeypatch.setattr(connection, "is_usable", is_usable)
    request_started.send(sender=None)  # Django's handler marks the connection for a check
    assert user_by_id(alice.pk) == alice
    assert checks == []  # no `SELECT 1` before the read: the read was the check

    # A connection that died between requests fails the read, which is sent again on a new one.
    request_started.send(sender=None)
    dead = connection.connection.info.backend_pid
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [dead])
    finally:
        other.close()
    assert user_by_id(alice.pk) == alice
    assert connection.connection.info.backend_pid != dead
    assert checks == []
