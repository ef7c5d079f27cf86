"""The error responses the schema documents are the ones the API sends: real bodies validated
against the documented schemas, where every field the API returns must be documented."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Team
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get(
            "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
        )
    assert response.status_code == 200
    return dict(response.json())


def resolved(node: Any, schema: dict[str, Any]) -> Any:
    """`node` with every `$ref` inlined, and every object that lists its properties closed to
    others: a field the API sends but the schema does not name fails the validation."""
    if isinstance(node, list):
        return [resolved(item, schema) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        return resolved(copy.deepcopy(schema["components"]["schemas"][name]), schema)
    out = {key: resolved(value, schema) for key, value in node.items()}
    if "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


def documented(schema: dict[str, Any], path: str, method: str, code: int) -> dict[str, Any]:
    """The documented response: `{"description": ..., "schema": ...}` (refs resolved)."""
    responses = schema["paths"][f"/api/v1/{path}"][method]["responses"]
    assert str(code) in responses, f"{method.upper()} {path} does not document {code}"
    response = responses[str(code)]
    body = response["content"]["application/json"]["schema"]
    return {"description": response["description"], "schema": resolved(body, schema)}


def assert_matches(
    schema: dict[str, Any], path: str, method: str, response: Any, code: int
) -> dict[str, Any]:
    assert response.status_code == code, response.content
    doc = documented(schema, path, method, code)
    jsonschema.validate(response.json(), doc["schema"])
    return doc


def post(client: APIClient, path: str, body: object) -> Any:
    return client.post(f"/api/v1/{path}", body, format="json")


# --- /auth/token/ and /auth/token/refresh/ --------------------------------------------------


def test_wrong_credentials_are_the_documented_401(schema: dict[str, Any], alice: User) -> None:
    for password in ("wrong-password", PASSWORD):
        if password == PASSWORD:
            alice.is_active = False
            alice.save()
        response = post(APIClient(), "auth/token/", {"username": "alice", "password": password})
        doc = assert_matches(schema, "auth/token/", "post", response, 401)
        assert response.json()["detail"] in doc["description"]
        assert "access token" not in doc["description"]


def refresh_refusals(alice: User, client: APIClient) -> dict[str, Any]:
    """The ways a refresh token is refused, each with the body the API sends."""
    used = post(client, "auth/token/", {"username": "alice", "password": PASSWORD}).json()
    assert post(client, "auth/token/refresh/", {"refresh": used["refresh"]}).status_code == 200
    logged_out = str(RefreshToken.for_user(alice))
    assert post(client, "auth/logout/", {"refresh": logged_out}).status_code == 204
    expired = RefreshToken.for_user(alice)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    tokens = {
        "used": used["refresh"],
        "logged out": logged_out,
        "expired": str(expired),
        "an access token": str(AccessToken.for_user(alice)),
        "garbage": "not-a-token",
    }
    return {why: post(client, "auth/token/refresh/", {"refresh": t}) for why, t in tokens.items()}


def test_refused_refresh_tokens_are_the_documented_401(schema: dict[str, Any], alice: User) -> None:
    for why, response in refresh_refusals(alice, APIClient()).items():
        doc = assert_matches(schema, "auth/token/refresh/", "post", response, 401)
        body = response.json()
        assert body["code"] == "token_not_valid", why
        # Each reason the API gives is one the schema names.
        assert body["detail"] in doc["schema"]["properties"]["detail"]["description"], why
        assert "access token" not in doc["description"]


# --- 401 on endpoints that need an access token ---------------------------------------------


def test_refused_access_tokens_are_the_documented_401(schema: dict[str, Any], alice: User) -> None:
    expired = AccessToken.for_user(alice)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    headers = {
        "none": None,
        "garbage": "Bearer not-a-token",
        "expired": f"Bearer {expired}",
        "a refresh token": f"Bearer {RefreshToken.for_user(alice)}",
    }
    bodies = []
    for why, header in headers.items():
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        for path in ("users/me/", "teams/"):
            response = client.get(f"/api/v1/{path}")
            assert_matches(schema, path, "get", response, 401)
            bodies.append((why, response.json()))
    # The `messages` the API adds for a refused token are documented, not merely tolerated.
    assert any("messages" in body for _, body in bodies)
    assert all(set(body) == {"detail"} for why, body in bodies if why == "none")


# --- 400, 403, 404, 412 ---------------------------------------------------------------------


def test_validation_errors_are_the_documented_400(
    schema: dict[str, Any], alice: User, api: Api
) -> None:
    anonymous = APIClient()
    cases = [
        ("auth/token/", anonymous, {"username": "alice"}),
        ("auth/register/", anonymous, {"username": "alice", "email": "x", "password": "p"}),
        ("auth/logout/", anonymous, {"refresh": "not-a-token"}),
        ("teams/", api(alice), {"name": ""}),
    ]
    for path, client, body in cases:
        assert_matches(schema, path, "post", post(client, path, body), 400)
    malformed = api(alice).post("/api/v1/teams/", "{", content_type="application/json")
    assert_matches(schema, "teams/", "post", malformed, 400)
    assert "JSON parse error" in malformed.json()["detail"]


def test_refusals_are_the_documented_403_404_412(
    schema: dict[str, Any], alice: User, bob: User, mallory: User, team: Team, api: Api
) -> None:
    hidden = api(mallory).get(f"/api/v1/teams/{team.pk}/")
    assert_matches(schema, "teams/{team_id}/", "get", hidden, 404)

    not_allowed = post(api(bob), f"teams/{team.pk}/members/", {"username": "mallory"})
    assert_matches(schema, "teams/{team_id}/members/", "post", not_allowed, 403)

    task = post(api(alice), "tasks/", {"team": team.pk, "title": "Ship it"}).json()
    stale = api(alice).patch(
        f"/api/v1/tasks/{task['id']}/", {"title": "Late"}, format="json", HTTP_IF_MATCH='"9"'
    )
    assert_matches(schema, "tasks/{task_id}/", "patch", stale, 412)
