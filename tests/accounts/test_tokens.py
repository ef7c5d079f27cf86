"""Sign in, refresh with rotation, log out: a refresh token works once and never after logout."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from taskflow_core.accounts.models import User
from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/users/me/"

pytestmark = pytest.mark.django_db


def post(url: str, body: object) -> tuple[int, dict[str, object]]:
    response = APIClient().post(url, body, format="json")
    return response.status_code, response.json() if response.content else {}


def me_with(access: object) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME).status_code


def sign_in(username: str = "alice") -> dict[str, object]:
    status, pair = post(TOKEN, {"username": username, "password": PASSWORD})
    assert status == 200
    return pair


def test_sign_in_returns_an_access_and_a_refresh_token(alice: User) -> None:
    pair = sign_in()

    assert set(pair) == {"access", "refresh"}
    access = AccessToken(pair["access"])  # type: ignore[arg-type]
    refresh = RefreshToken(pair["refresh"])  # type: ignore[arg-type]
    assert access["user_id"] == str(alice.pk)
    assert refresh["user_id"] == str(alice.pk)
    assert access["token_type"] == "access"
    assert refresh["token_type"] == "refresh"
    assert me_with(pair["access"]) == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice", "password": "wrong-password"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "ALICE", "password": PASSWORD},
    ],
)
def test_wrong_credentials_are_401(alice: User, credentials: dict[str, str]) -> None:
    response = APIClient().post(TOKEN, credentials, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "detail": "No active account found with the given credentials.",
    }
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_inactive_user_cannot_sign_in(make_user: Callable[..., User]) -> None:
    make_user("carol", is_active=False)
    status, _ = post(TOKEN, {"username": "carol", "password": PASSWORD})
    assert status == 401


def test_sign_in_without_fields_is_400_naming_them() -> None:
    status, body = post(TOKEN, {})
    assert status == 400
    assert body == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }


def test_refresh_returns_a_new_working_pair(alice: User) -> None:
    pair = sign_in()

    status, new_pair = post(REFRESH, {"refresh": pair["refresh"]})

    assert status == 200
    assert set(new_pair) == {"access", "refresh"}
    assert new_pair["refresh"] != pair["refresh"]
    assert me_with(new_pair["access"]) == 200
    # The rotated refresh token is itself good for one more refresh.
    assert post(REFRESH, {"refresh": new_pair["refresh"]})[0] == 200


def test_reusing_a_refresh_token_after_rotation_is_401(alice: User) -> None:
    pair = sign_in()
    assert post(REFRESH, {"refresh": pair["refresh"]})[0] == 200

    status, body = post(REFRESH, {"refresh": pair["refresh"]})

    assert status == 401
    assert body == {"detail": "Token is blacklisted", "code": "token_not_valid"}


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_refreshes_with_one_token_yield_one_new_pair(alice: User) -> None:
    refresh = sign_in()["refresh"]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def use_refresh() -> None:
        try:
            barrier.wait(timeout=30)
            statuses.append(
                APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=use_refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200, 401]


def test_logout_revokes_the_refresh_token(alice: User) -> None:
    pair = sign_in()

    status, body = post(LOGOUT, {"refresh": pair["refresh"]})

    assert (status, body) == (204, {})
    status, body = post(REFRESH, {"refresh": pair["refresh"]})
    assert status == 401
    assert body == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_logout_needs_no_access_token_and_a_second_logout_is_also_204(alice: User) -> None:
    pair = sign_in()
    assert post(LOGOUT, {"refresh": pair["refresh"]})[0] == 204
    assert post(LOGOUT, {"refresh": pair["refresh"]})[0] == 204


def test_logout_of_one_session_leaves_the_others_working(alice: User) -> None:
    laptop, phone = sign_in(), sign_in()
    assert post(LOGOUT, {"refresh": laptop["refresh"]})[0] == 204
    assert post(REFRESH, {"refresh": phone["refresh"]})[0] == 200


def test_logout_of_a_rotated_away_token_still_leaves_it_unusable(alice: User) -> None:
    pair = sign_in()
    assert post(REFRESH, {"refresh": pair["refresh"]})[0] == 200
    assert post(LOGOUT, {"refresh": pair["refresh"]})[0] == 204
    assert post(REFRESH, {"refresh": pair["refresh"]})[0] == 401


def expired_refresh(user: User) -> str:
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda user: "garbage", id="garbage"),
        pytest.param(lambda user: "", id="empty"),
        pytest.param(lambda user: str(RefreshToken.for_user(user).access_token), id="access"),
        pytest.param(expired_refresh, id="expired"),
    ],
)
def test_logout_of_anything_but_a_live_refresh_token_is_400_naming_refresh(
    alice: User, make_token: Callable[[User], str]
) -> None:
    status, body = post(LOGOUT, {"refresh": make_token(alice)})
    assert status == 400
    assert list(body) == ["refresh"]


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda user: "garbage", id="garbage"),
        pytest.param(lambda user: str(RefreshToken.for_user(user).access_token), id="access"),
        pytest.param(expired_refresh, id="expired"),
    ],
)
def test_refresh_with_anything_but_a_live_refresh_token_is_401(
    alice: User, make_token: Callable[[User], str]
) -> None:
    status, body = post(REFRESH, {"refresh": make_token(alice)})
    assert status == 401
    assert body["code"] == "token_not_valid"


def test_refresh_without_a_token_is_400_naming_refresh() -> None:
    status, body = post(REFRESH, {})
    assert (status, body) == (400, {"refresh": ["This field is required."]})


def test_refresh_for_a_deleted_or_deactivated_user_is_401(
    make_user: Callable[..., User],
) -> None:
    gone, inactive = make_user("gone"), make_user("inactive")
    gone_refresh = str(RefreshToken.for_user(gone))
    inactive_refresh = str(RefreshToken.for_user(inactive))
    gone.delete()
    inactive.is_active = False
    inactive.save()

    assert post(REFRESH, {"refresh": gone_refresh})[0] == 401
    assert post(REFRESH, {"refresh": inactive_refresh})[0] == 401


def test_a_refresh_token_naming_no_user_is_401() -> None:
    status, body = post(REFRESH, {"refresh": str(RefreshToken())})
    assert status == 401
    assert body == {
        "detail": "No active account found for the given token.",
        "code": "token_not_valid",
    }
