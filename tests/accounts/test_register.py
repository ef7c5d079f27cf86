"""`POST /api/v1/auth/register/`: accounts are created only from valid, unique input."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from tests.conftest import PASSWORD

URL = "/api/v1/auth/register/"

pytestmark = pytest.mark.django_db


def register(**body: object) -> tuple[int, object]:
    response = APIClient().post(URL, body, format="json")
    return response.status_code, response.json()


def test_register_creates_an_account_that_can_sign_in() -> None:
    status, body = register(username="carol", email="carol@example.com", password=PASSWORD)

    user = User.objects.get(username="carol")
    assert status == 201
    assert body == {"id": user.pk, "username": "carol", "email": "carol@example.com"}
    assert user.email_notifications is True
    assert user.check_password(PASSWORD)
    signed_in = APIClient().post(
        "/api/v1/auth/token/", {"username": "carol", "password": PASSWORD}, format="json"
    )
    assert signed_in.status_code == 200


def test_the_response_never_echoes_the_password() -> None:
    status, body = register(username="carol", email="carol@example.com", password=PASSWORD)
    assert status == 201
    assert PASSWORD not in str(body)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Xq7$", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("4817265390142", "This password is entirely numeric."),
        ("carolcarol1", "The password is too similar to the username."),
    ],
)
def test_weak_passwords_are_refused_naming_the_password(password: str, message: str) -> None:
    status, body = register(username="carolcarol1", email="c@example.com", password=password)

    assert status == 400
    assert isinstance(body, dict)
    assert list(body) == ["password"]
    assert message in body["password"]
    assert not User.objects.filter(username="carolcarol1").exists()


def test_duplicate_username_is_refused_whatever_its_case(make_user: Callable[..., User]) -> None:
    make_user("carol")

    status, body = register(username="Carol", email="other@example.com", password=PASSWORD)

    assert status == 400
    assert body == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


def test_duplicate_email_is_refused_whatever_its_case(make_user: Callable[..., User]) -> None:
    make_user("carol")

    status, body = register(username="dave", email="CAROL@example.com", password=PASSWORD)

    assert status == 400
    assert body == {"email": ["A user with that email already exists."]}
    assert User.objects.count() == 1


def test_every_problem_is_reported_at_once(make_user: Callable[..., User]) -> None:
    make_user("carol")

    status, body = register(username="carol", email="carol@example.com", password="123")

    assert status == 400
    assert isinstance(body, dict)
    assert set(body) == {"username", "email", "password"}


def test_invalid_email_is_refused() -> None:
    status, body = register(username="carol", email="not-an-email", password=PASSWORD)
    assert status == 400
    assert body == {"email": ["Enter a valid email address."]}


def test_username_with_forbidden_characters_is_refused() -> None:
    status, body = register(username="carol smith/", email="c@example.com", password=PASSWORD)
    assert status == 400
    assert isinstance(body, dict)
    assert list(body) == ["username"]


def test_missing_fields_are_each_named() -> None:
    status, body = register()
    assert status == 400
    assert body == {
        "username": ["This field is required."],
        "email": ["This field is required."],
        "password": ["This field is required."],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "x" * 151),
        ("username", None),
        ("username", {"nested": "object"}),
        ("email", "a" * 250 + "@example.com"),
        ("password", "p" * 5000),
        ("username", "nul\x00byte"),
    ],
)
def test_malformed_field_values_are_400_naming_the_field(field: str, value: object) -> None:
    body: dict[str, object] = {"username": "carol", "email": "c@example.com", "password": PASSWORD}
    body[field] = value

    status, errors = register(**body)

    assert status == 400
    assert isinstance(errors, dict)
    assert list(errors) == [field]


def test_malformed_json_is_a_parse_error() -> None:
    response = APIClient().post(URL, data='{"username": "carol",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_a_json_body_that_is_not_an_object_is_refused() -> None:
    response = APIClient().post(URL, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


def test_register_needs_no_token_and_ignores_a_bad_one() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    response = client.post(
        URL, {"username": "carol", "email": "c@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
