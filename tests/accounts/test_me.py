"""`/users/me/`: the token holder. Preferences: tests/notifications/test_preferences.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User

ME = "/api/v1/users/me/"

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
