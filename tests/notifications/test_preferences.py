"""`/users/me/preferences/`: email on/off, per type, and the read-aware delay; each user sees
and changes only their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User

PREFERENCES = "/api/v1/users/me/preferences/"
DEFAULT_TYPES = {
    "task_assigned": True,
    "task_status_changed": False,
    "task_commented": False,
    "mentioned": True,
    "deadline_approaching": True,
    "task_overdue": True,
}
DEFAULTS = {"email_notifications": True, "email_types": DEFAULT_TYPES, "email_delay_minutes": 5}

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


def test_preferences_default_to_the_documented_table(alice: User, api: Api) -> None:
    response = api(alice).get(PREFERENCES)
    assert response.status_code == 200
    assert response.json() == DEFAULTS


def test_patching_preferences_changes_only_mine(alice: User, bob: User, api: Api) -> None:
    response = api(alice).patch(PREFERENCES, {"email_notifications": False}, format="json")

    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "email_notifications": False}
    assert api(alice).get(PREFERENCES).json()["email_notifications"] is False
    assert api(bob).get(PREFERENCES).json() == DEFAULTS
    alice.refresh_from_db()
    assert alice.email_notifications is False


def test_email_types_are_merged_into_earlier_choices(alice: User, api: Api) -> None:
    client = api(alice)
    first = client.patch(
        PREFERENCES, {"email_types": {"task_commented": True, "mentioned": False}}, format="json"
    )
    second = client.patch(PREFERENCES, {"email_types": {"task_assigned": False}}, format="json")

    expected = {
        **DEFAULT_TYPES,
        "task_commented": True,
        "mentioned": False,
        "task_assigned": False,
    }
    assert first.status_code == second.status_code == 200
    assert second.json()["email_types"] == expected
    assert client.get(PREFERENCES).json()["email_types"] == expected


@pytest.mark.parametrize("minutes", [0, 1, 1440])
def test_the_delay_takes_0_to_1440_minutes(alice: User, api: Api, minutes: int) -> None:
    response = api(alice).patch(PREFERENCES, {"email_delay_minutes": minutes}, format="json")
    assert response.status_code == 200
    assert response.json()["email_delay_minutes"] == minutes


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email_notifications": "false"}, "email_notifications"),
        ({"email_notifications": 1}, "email_notifications"),
        ({"email_notifications": None}, "email_notifications"),
        ({"email_types": {"task_exploded": True}}, "email_types"),
        ({"email_types": {"mentioned": "yes"}}, "email_types"),
        ({"email_types": ["mentioned"]}, "email_types"),
        ({"email_delay_minutes": -1}, "email_delay_minutes"),
        ({"email_delay_minutes": 1441}, "email_delay_minutes"),
        ({"email_delay_minutes": "5"}, "email_delay_minutes"),
        ({"email_delay_minutes": 2.5}, "email_delay_minutes"),
        ({"email_delay_minutes": True}, "email_delay_minutes"),
    ],
)
def test_bad_preferences_are_a_400_naming_the_field(
    alice: User, api: Api, body: dict[str, Any], field: str
) -> None:
    response = api(alice).patch(PREFERENCES, body, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert api(alice).get(PREFERENCES).json() == DEFAULTS


def test_an_unknown_type_is_named_in_the_message(alice: User, api: Api) -> None:
    response = api(alice).patch(
        PREFERENCES, {"email_types": {"task_exploded": True}}, format="json"
    )
    assert "task_exploded" in str(response.json()["email_types"])


def test_an_empty_patch_changes_nothing(alice: User, api: Api) -> None:
    response = api(alice).patch(PREFERENCES, {}, format="json")
    assert response.status_code == 200
    assert response.json() == DEFAULTS


def test_preferences_reject_malformed_json(alice: User, api: Api) -> None:
    response = api(alice).patch(PREFERENCES, data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_preferences_cannot_be_replaced_with_put(alice: User, api: Api) -> None:
    response = api(alice).put(PREFERENCES, {"email_notifications": False}, format="json")
    assert response.status_code == 405


def test_preferences_need_a_token(api: Api) -> None:
    assert api(None).get(PREFERENCES).status_code == 401
