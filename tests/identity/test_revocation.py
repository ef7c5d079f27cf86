"""Password change, logout everywhere and deactivation end every session of the user: refresh
tokens (used or not) stop working, access tokens already issued are refused, and a
`control.revoke` entry tells the realtime service, after commit only (docs/events.md)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.publishing import outbox_event_publish, revoked_key
from taskflow_core.identity.services import user_deactivate, user_logout_all
from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
ME = "/api/v1/users/me/"
PASSWORD_URL = "/api/v1/auth/password/"
LOGOUT_ALL = "/api/v1/auth/logout-all/"
NEW_PASSWORD = "another-Long-and-unusual-passphrase-77"

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str = PASSWORD) -> dict[str, str]:
    response = APIClient().post(TOKEN, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    pair: dict[str, str] = response.json()
    return pair


def refresh(token: str) -> int:
    return APIClient().post(REFRESH, {"refresh": token}, format="json").status_code


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def sessions(username: str) -> tuple[dict[str, str], dict[str, str]]:
    """An earlier pair whose refresh was already traded for a newer pair, and that newer pair."""
    earlier = sign_in(username)
    response = APIClient().post(REFRESH, {"refresh": earlier["refresh"]}, format="json")
    assert response.status_code == 200
    return earlier, response.json()


def assert_every_session_ended(earlier: dict[str, str], current: dict[str, str]) -> None:
    assert refresh(current["refresh"]) == 401  # the pair a refresh returned cannot refresh
    assert refresh(earlier["refresh"]) == 401
    assert bearer(current["access"]).get(ME).status_code == 401
    assert bearer(earlier["access"]).get(ME).status_code == 401


def test_a_password_change_ends_every_session(alice: User) -> None:
    earlier, current = sessions("alice")

    response = bearer(current["access"]).post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    assert_every_session_ended(earlier, current)
    assert (
        APIClient()
        .post(TOKEN, {"username": "alice", "password": PASSWORD}, format="json")
        .status_code
        == 401
    )
    # Signing in again, even within the same second, gives a session that works.
    fresh = sign_in("alice", NEW_PASSWORD)
    assert bearer(fresh["access"]).get(ME).status_code == 200
    assert refresh(fresh["refresh"]) == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "wrong-password", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
    ],
)
def test_a_refused_password_change_names_the_field_and_ends_nothing(
    alice: User, body: dict[str, str], field: str
) -> None:
    _, current = sessions("alice")

    response = bearer(current["access"]).post(PASSWORD_URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert bearer(current["access"]).get(ME).status_code == 200
    assert refresh(current["refresh"]) == 200
    assert not OutboxEvent.objects.filter(name="control.revoke").exists()


def test_logout_all_ends_every_session_but_keeps_the_password(alice: User, bob: User) -> None:
    earlier, current = sessions("alice")
    _, bobs = sessions("bob")

    assert bearer(current["access"]).post(LOGOUT_ALL).status_code == 204

    assert_every_session_ended(earlier, current)
    assert bearer(sign_in("alice")["access"]).get(ME).status_code == 200
    # Nobody else is affected.
    assert bearer(bobs["access"]).get(ME).status_code == 200
    assert refresh(bobs["refresh"]) == 200


def test_the_revocation_endpoints_need_a_valid_access_token(alice: User) -> None:
    assert APIClient().post(LOGOUT_ALL).status_code == 401
    assert APIClient().post(PASSWORD_URL, {}, format="json").status_code == 401


def test_deactivation_ends_every_session(alice: User) -> None:
    earlier, current = sessions("alice")

    user_deactivate(user=alice)

    assert_every_session_ended(earlier, current)
    assert (
        APIClient()
        .post(TOKEN, {"username": "alice", "password": PASSWORD}, format="json")
        .status_code
        == 401
    )


def test_deactivation_from_the_admin_ends_every_session(
    make_user: Callable[..., User], alice: User
) -> None:
    earlier, current = sessions("alice")
    staff = Client()
    staff.force_login(make_user("root", is_staff=True, is_superuser=True))

    response = staff.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [alice.pk]}
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active
    assert_every_session_ended(earlier, current)
    assert OutboxEvent.objects.filter(name="control.revoke", data__user=alice.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_revocation_reaches_the_stream_as_a_control_entry_after_commit(
    event_stream: str, stream_redis: redis.Redis, alice: User
) -> None:
    with transaction.atomic():
        user_logout_all(user=alice)
        assert stream_redis.xlen(event_stream) == 0

    entries: list[tuple[str, dict[str, str]]] = stream_redis.xrange(event_stream)  # type: ignore[assignment]
    assert len(entries) == 1
    _, fields = entries[0]
    assert set(fields) == {"r", "c"}  # a control entry: no `e`, so never a client frame
    assert fields["r"] == ""
    control = json.loads(fields["c"])
    alice.refresh_from_db()
    assert alice.tokens_valid_after is not None
    assert control == {
        "kind": "revoke",
        "user": alice.pk,
        "before": int(alice.tokens_valid_after.timestamp()),
    }
    # The realtime service checks this key when a socket authenticates.
    assert stream_redis.get(revoked_key(alice.pk)) == str(control["before"])
    assert 0 < stream_redis.ttl(revoked_key(alice.pk)) <= 15 * 60
    stream_redis.delete(revoked_key(alice.pk))


@pytest.mark.django_db(transaction=True)
def test_an_older_revocation_published_late_never_lowers_the_cut_off(
    event_stream: str, stream_redis: redis.Redis, alice: User
) -> None:
    key = revoked_key(alice.pk)
    stream_redis.set(key, "9999999999")
    user_logout_all(user=alice)

    assert stream_redis.get(key) == "9999999999"
    row = OutboxEvent.objects.get(name="control.revoke")
    assert row.stream_id  # published all the same
    assert outbox_event_publish(event=row) == row.stream_id  # and only once
    stream_redis.delete(key)


def test_setting_a_password_in_the_admin_ends_every_session(
    make_user: Callable[..., User], alice: User
) -> None:
    earlier, current = sessions("alice")
    staff = Client()
    staff.force_login(make_user("root", is_staff=True, is_superuser=True))

    response = staff.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert_every_session_ended(earlier, current)
    assert bearer(sign_in("alice", NEW_PASSWORD)["access"]).get(ME).status_code == 200


def test_unticking_active_in_the_admin_ends_every_session(
    make_user: Callable[..., User], alice: User
) -> None:
    earlier, current = sessions("alice")
    staff = Client()
    staff.force_login(make_user("root", is_staff=True, is_superuser=True))
    joined = alice.date_joined

    response = staff.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {
            "username": "alice",
            "email": alice.email,
            "email_notifications": "on",
            "email_types": "{}",
            "email_delay_minutes": "5",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            # "is_active" left out: the box is unticked
        },
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    alice.refresh_from_db()
    assert not alice.is_active
    assert_every_session_ended(earlier, current)
    assert OutboxEvent.objects.filter(name="control.revoke", data__user=alice.pk).exists()
