"""Hostile or malformed input gets a clean JSON 4xx naming the problem, never a 500 or an HTML
page, with DEBUG off and on (docs/api.md, "Limits" and "Errors")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import LazySettings
from django.test import Client
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest, settings: LazySettings) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


def assert_json_error(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code") == status, getattr(response, "content")  # noqa: B009
    headers = getattr(response, "headers")  # noqa: B009
    assert headers["Content-Type"].startswith("application/json")
    body = getattr(response, "json")()  # noqa: B009
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(
    "path",
    ["/api/v1/auth/register/", "/api/v1/auth/token/", "/api/v1/teams/", "/api/v1/tasks/"],
)
def test_deeply_nested_json_is_a_400_for_anyone(debug: bool, path: str) -> None:
    response = Client().post(path, "[" * 100_000, content_type="application/json")

    # Unauthenticated: the auth endpoints parse the body (400); the others refuse first (401).
    assert response.status_code in (400, 401)
    if response.status_code == 400:
        assert "nested too deeply" in str(assert_json_error(response, 400)["detail"])


def test_nesting_just_past_the_limit_is_refused_before_any_view(
    api: Api, alice: User, team: Team
) -> None:
    body = '{"name": ' + "[" * 40 + "]" * 40 + "}"

    response = api(alice).generic("POST", "/api/v1/teams/", body, content_type="application/json")

    assert "nested too deeply" in str(assert_json_error(response, 400)["detail"])


def test_a_form_or_multipart_body_is_a_json_415(api: Api, alice: User) -> None:
    client = api(alice)
    form = client.post("/api/v1/teams/", {"name": "x"}, format="multipart")
    assert_json_error(form, 415)
    urlencoded = client.generic(
        "POST", "/api/v1/teams/", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_json_error(urlencoded, 415)


def test_a_body_over_the_limit_is_a_json_413(debug: bool, api: Api, alice: User) -> None:
    body = '{"name": "' + "x" * (1024 * 1024) + '"}'

    response = api(alice).generic("POST", "/api/v1/teams/", body, content_type="application/json")

    assert "too large" in str(assert_json_error(response, 413)["detail"])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/nowhere/", 404),
        ("get", "/api/v1/teams/abc/", 404),
        ("get", "/api/v1/teams", 404),
        ("post", "/api/v1/teams", 404),
        ("delete", "/api/v1/teams/", 405),
        ("put", "/api/v1/health/", 405),
    ],
)
def test_every_api_error_is_json_whatever_debug_says(
    debug: bool, api: Api, alice: User, method: str, path: str, status: int
) -> None:
    response = getattr(api(alice), method)(path, {"name": "x"}, format="json")

    assert_json_error(response, status)


def test_a_path_without_its_trailing_slash_names_the_right_one(debug: bool, api: Api) -> None:
    response = api(None).post("/api/v1/auth/register", {}, format="json")

    body = assert_json_error(response, 404)
    assert body["detail"] == "Not found. API paths end with a slash: /api/v1/auth/register/"


def test_the_admin_still_redirects_to_its_trailing_slash() -> None:
    response = Client().get("/admin/login")

    assert response.status_code in (301, 302)
    assert response.headers["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("value", ["-7087186232981", "0", str(2**63), str(10**20)])
def test_a_team_filter_outside_the_id_range_is_a_400_naming_it(
    api: Api, alice: User, value: str
) -> None:
    response = api(alice).get("/api/v1/tasks/", {"team": value})

    assert list(assert_json_error(response, 400)) == ["team"]


CONTROL_CHARACTERS = ["\r", "\n", "\x00", "\x1b", "\x07", "\x7f", "\t"]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
def test_control_characters_in_a_title_are_a_400_naming_it(
    api: Api, alice: User, team: Team, char: str
) -> None:
    body = {"team": team.pk, "title": f"Ship{char}Bcc: victim@example.com"}

    response = api(alice).post("/api/v1/tasks/", body, format="json")

    assert list(assert_json_error(response, 400)) == ["title"]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
def test_control_characters_in_a_team_name_are_a_400_naming_it(
    api: Api, alice: User, char: str
) -> None:
    response = api(alice).post("/api/v1/teams/", {"name": f"a{char}b"}, format="json")

    assert list(assert_json_error(response, 400)) == ["name"]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
def test_control_characters_in_a_username_are_a_400_naming_it(api: Api, char: str) -> None:
    body = {"username": f"eve{char}x", "email": "eve@example.com", "password": "x-Long-pass-9931"}

    response = api(None).post("/api/v1/auth/register/", body, format="json")

    assert list(assert_json_error(response, 400)) == ["username"]


@pytest.mark.parametrize("char", ["\r", "\x00", "\x1b", "\x0b", "\x7f"], ids=repr)
def test_descriptions_refuse_control_characters_but_newline_and_tab(
    api: Api, alice: User, team: Team, char: str
) -> None:
    client = api(alice)
    good = {"team": team.pk, "title": "Ship", "description": "line one\n\tline two"}
    created = client.post("/api/v1/tasks/", good, format="json")
    assert created.status_code == 201
    assert created.json()["description"] == "line one\n\tline two"

    bad = good | {"description": f"line{char}two"}
    response = client.post("/api/v1/tasks/", bad, format="json")

    assert list(assert_json_error(response, 400)) == ["description"]


@pytest.mark.parametrize(
    ("field", "longest"), [("title", 200), ("description", 20_000)], ids=["title", "description"]
)
def test_task_text_lengths(api: Api, alice: User, team: Team, field: str, longest: int) -> None:
    client = api(alice)
    body = {"team": team.pk, "title": "Ship"}

    assert (
        client.post("/api/v1/tasks/", body | {field: "x" * longest}, format="json").status_code
        == 201
    )
    too_long = client.post("/api/v1/tasks/", body | {field: "x" * (longest + 1)}, format="json")
    assert list(assert_json_error(too_long, 400)) == [field]


def test_team_name_lengths(api: Api, alice: User) -> None:
    client = api(alice)

    assert client.post("/api/v1/teams/", {"name": "x" * 200}, format="json").status_code == 201
    for name in ("", "x" * 201):
        response = client.post("/api/v1/teams/", {"name": name}, format="json")
        assert list(assert_json_error(response, 400)) == ["name"]


def test_usernames_are_at_most_150_characters(api: Api) -> None:
    body = {"username": "u" * 151, "email": "u@example.com", "password": "x-Long-pass-9931"}

    response = api(None).post("/api/v1/auth/register/", body, format="json")

    assert list(assert_json_error(response, 400)) == ["username"]
