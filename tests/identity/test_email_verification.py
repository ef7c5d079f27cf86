"""The verification token is signed, expires, and works only for the address it was sent to
(delivery and single use, through the real worker: test_verification_delivery.py)."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.accounts.verification import email_verification_token
from tests.conftest import PASSWORD

VERIFY = "/api/v1/auth/verify-email/"
RESEND = "/api/v1/auth/verify-email/resend/"

pytestmark = pytest.mark.django_db


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


def test_resend_needs_a_signed_in_user() -> None:
    assert APIClient().post(RESEND).status_code == 401
