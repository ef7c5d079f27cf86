"""Registering sends a verification email; its token, POSTed back, verifies the address once.
The token is signed, expires, works once and only for the address it was sent to."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from pytest_django import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.accounts.verification import email_verification_token
from taskflow_core.emails.models import EmailDelivery
from tests.conftest import PASSWORD

REGISTER = "/api/v1/auth/register/"
VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"
ME = "/api/v1/users/me/"

pytestmark = pytest.mark.django_db

TOKEN_LINE = re.compile(r"^([\w:\-]{20,})$", re.MULTILINE)


def bearer(user: User) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def emailed_token() -> str:
    assert len(mail.outbox) == 1
    match = TOKEN_LINE.search(str(mail.outbox[0].body))
    assert match is not None, mail.outbox[0].body
    return match.group(1)


def register(captured: DjangoCaptureOnCommitCallbacks) -> User:
    with captured(execute=True):
        response = APIClient().post(
            REGISTER,
            {"username": "carol", "email": "Carol@Example.com", "password": PASSWORD},
            format="json",
        )
    assert response.status_code == 201
    return User.objects.get(username="carol")


def test_registering_emails_a_token_that_verifies_the_address_once(
    eager: None, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    carol = register(django_capture_on_commit_callbacks)
    assert mail.outbox[0].to == ["Carol@example.com"]
    # Through the mail outbox, like every email: recorded for the account, sent once.
    assert EmailDelivery.objects.get().recipient == carol
    token = emailed_token()
    assert token not in mail.outbox[0].subject
    assert bearer(carol).get(ME).json()["email_verified"] is False

    assert APIClient().post(VERIFY, {"token": token}, format="json").status_code == 204

    assert bearer(carol).get(ME).json()["email_verified"] is True
    again = APIClient().post(VERIFY, {"token": token}, format="json")
    assert again.status_code == 400
    assert list(again.json()) == ["token"]


@pytest.mark.parametrize("token", ["", "garbage", "x" * 600, "a:b:c"])
def test_a_bad_token_is_a_400_naming_it(token: str) -> None:
    response = APIClient().post(VERIFY, {"token": token}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["token"]


def test_an_expired_token_is_refused(settings: Settings) -> None:
    carol = User.objects.create_user(username="carol", email="c@example.com", password=PASSWORD)
    token = email_verification_token(carol)
    # Any age is over a negative limit: the token is as good as a day-old one under a day.
    settings.TASKFLOW_EMAIL_VERIFICATION_MAX_AGE_SECONDS = -1

    assert APIClient().post(VERIFY, {"token": token}, format="json").status_code == 400
    carol.refresh_from_db()
    assert carol.email_verified_at is None


def test_a_token_for_a_previous_address_is_refused() -> None:
    carol = User.objects.create_user(username="carol", email="old@example.com", password=PASSWORD)
    token = email_verification_token(carol)
    carol.email = "new@example.com"
    carol.save()

    assert APIClient().post(VERIFY, {"token": token}, format="json").status_code == 400


def test_resend_sends_a_fresh_token_to_an_unverified_address(
    eager: None, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    carol = User.objects.create_user(username="carol", email="c@example.com", password=PASSWORD)
    client = bearer(carol)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RESEND).status_code == 202

    assert APIClient().post(VERIFY, {"token": emailed_token()}, format="json").status_code == 204
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(RESEND).status_code == 202
    assert mail.outbox == []  # verified: nothing more to send


def test_resend_needs_a_signed_in_user() -> None:
    assert APIClient().post(RESEND).status_code == 401
