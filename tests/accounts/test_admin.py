"""The Django admin manages our User model, email preferences included."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from taskflow_core.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user: Callable[..., User]) -> Client:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_user_pages_open(staff: Client, alice: User) -> None:
    assert staff.get("/admin/accounts/user/").status_code == 200
    assert staff.get("/admin/accounts/user/?q=ali").status_code == 200
    assert staff.get("/admin/accounts/user/add/").status_code == 200
    change = staff.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert change.status_code == 200
    assert b"email_notifications" in change.content


def test_admin_creates_a_user_with_email_and_password(staff: Client) -> None:
    response = staff.post(
        "/admin/accounts/user/add/",
        {
            "username": "carol",
            "email": "carol@example.com",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    carol = User.objects.get(username="carol")
    assert carol.email == "carol@example.com"
    assert carol.check_password(PASSWORD)


def test_admin_refuses_an_email_already_taken_in_another_case(staff: Client, alice: User) -> None:
    response = staff.post(
        "/admin/accounts/user/add/",
        {
            "username": "carol",
            "email": "ALICE@example.com",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 200
    assert b"A user with that email already exists." in response.content
    assert not User.objects.filter(username="carol").exists()


def test_admin_turns_email_notifications_off(staff: Client, alice: User) -> None:
    # An unchecked checkbox is simply absent from the form post.
    response = staff.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {
            "username": "alice",
            "email": "alice@example.com",
            "is_active": "on",
            "date_joined_0": alice.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": alice.date_joined.strftime("%H:%M:%S"),
            "email_types": '{"task_commented": true}',
            "email_delay_minutes": "30",
        },
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email_notifications is False
    assert alice.email_types == {"task_commented": True}
    assert alice.email_delay_minutes == 30
    assert alice.check_password(PASSWORD)
