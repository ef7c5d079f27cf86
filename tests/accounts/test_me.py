"""`/users/me/` and `/users/me/preferences/`: each user sees and changes only their own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User

ME = "/api/v1/users/me/"
PREFERENCES = "/api/v1/users/me/preferences/"

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


def test_me_is_the_token_holder(alice: User, bob: User, api: Api) -> None:
    response = api(alice).get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "email_verified": True,
    }


def test_preferences_default_to_email_notifications_on(alice: User, api: Api) -> None:
    response = api(alice).get(PREFERENCES)
    assert response.status_code == 200
    assert response.json() == {"email_notifications": True}


def test_patching_preferences_changes_only_mine(alice: User, bob: User, api: Api) -> None:
    response = api(alice).patch(PREFERENCES, {"email_notifications": False}, format="json")

    assert response.status_code == 200
    assert response.json() == {"email_notifications": False}
    assert api(alice).get(PREFERENCES).json() == {"email_notifications": False}
    assert api(bob).get(PREFERENCES).json() == {"email_notifications": True}
    alice.refresh_from_db()
    assert alice.email_notifications is False


def test_preferences_can_be_switched_back_on(make_user: Callable[..., User], api: Api) -> None:
    carol = make_user("carol", email_notifications=False)
    response = api(carol).patch(PREFERENCES, {"email_notifications": True}, format="json")
    assert response.json() == {"email_notifications": True}


def test_an_empty_patch_changes_nothing(alice: User, api: Api) -> None:
    response = api(alice).patch(PREFERENCES, {}, format="json")
    assert response.status_code == 200
    assert response.json() == {"email_notifications": True}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("false", "Must be true or false."),
        ("yes", "Must be true or false."),
        (0, "Must be true or false."),
        (1, "Must be true or false."),
        ([], "Must be true or false."),
        ({"on": True}, "Must be true or false."),
        (None, "This field may not be null."),
    ],
)
def test_preferences_take_only_json_booleans(
    alice: User, api: Api, value: object, message: str
) -> None:
    response = api(alice).patch(PREFERENCES, {"email_notifications": value}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email_notifications": [message]}
    alice.refresh_from_db()
    assert alice.email_notifications is True


def test_preferences_reject_malformed_json(alice: User, api: Api) -> None:
    response = api(alice).patch(PREFERENCES, data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_preferences_cannot_be_replaced_with_put(alice: User, api: Api) -> None:
    response = api(alice).put(PREFERENCES, {"email_notifications": False}, format="json")
    assert response.status_code == 405
