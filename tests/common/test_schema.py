"""`/api/v1/schema/`: a valid OpenAPI 3 document, generated without a single warning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_schema_and_the_docs_are_public() -> None:
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = APIClient().get("/api/docs/")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_the_schema_generates_without_warnings_and_validates(tmp_path: Path) -> None:
    # --fail-on-warn turns any warning (an unresolvable field, an enum name clash) into an error.
    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml")
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


@pytest.fixture
def signed_in_schema(alice: User, api: Callable[[User | None], APIClient]) -> dict[str, Any]:
    response = api(alice).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return dict(response.json())


@pytest.mark.parametrize(
    ("path", "method", "codes", "secured"),
    [
        ("auth/register/", "post", {"201", "400", "429"}, False),
        ("auth/token/", "post", {"200", "400", "401", "429"}, False),
        ("auth/token/refresh/", "post", {"200", "400", "401", "429"}, False),
        ("auth/password/", "post", {"204", "400", "401", "409", "422", "429"}, True),
        ("auth/logout-all/", "post", {"204", "401", "409", "422", "429"}, True),
        ("auth/verify-email/", "post", {"204", "400", "429"}, False),
        ("auth/verify-email/resend/", "post", {"202", "401", "409", "422", "429"}, True),
        ("auth/logout/", "post", {"204", "400", "429"}, False),
        ("users/me/", "get", {"200", "401"}, True),
        ("users/me/preferences/", "get", {"200", "401"}, True),
        ("users/me/preferences/", "patch", {"200", "400", "401"}, True),
        ("teams/", "get", {"200", "401"}, True),
        ("teams/", "post", {"201", "400", "401", "409", "422"}, True),
        ("teams/{team_id}/", "get", {"200", "401", "404"}, True),
        ("teams/{team_id}/members/", "get", {"200", "401", "404"}, True),
        (
            "teams/{team_id}/members/",
            "post",
            {"201", "400", "401", "403", "404", "409", "422"},
            True,
        ),
        ("teams/{team_id}/members/{user_id}/", "delete", {"204", "401", "403", "404"}, True),
        (
            "teams/{team_id}/members/{user_id}/",
            "patch",
            {"200", "400", "401", "403", "404"},
            True,
        ),
        ("tasks/{task_id}/comments/", "get", {"200", "401", "404"}, True),
        ("tasks/{task_id}/comments/", "post", {"201", "400", "401", "404", "409", "422"}, True),
        ("comments/{comment_id}/", "get", {"200", "401", "404"}, True),
        ("comments/{comment_id}/", "patch", {"200", "400", "401", "403", "404"}, True),
        ("comments/{comment_id}/", "delete", {"204", "401", "403", "404"}, True),
        ("tasks/{task_id}/watch/", "post", {"204", "401", "404", "409", "422"}, True),
        ("tasks/{task_id}/watch/", "delete", {"204", "401", "404"}, True),
    ],
)
def test_account_and_team_endpoints_document_their_errors(
    signed_in_schema: dict[str, Any], path: str, method: str, codes: set[str], secured: bool
) -> None:
    operation = signed_in_schema["paths"][f"/api/v1/{path}"][method]

    assert set(operation["responses"]) == codes
    assert ("security" in operation and operation["security"] != [{}]) is secured


def test_paginated_lists_are_documented_as_pages(signed_in_schema: dict[str, Any]) -> None:
    for path in ("teams/", "teams/{team_id}/members/", "tasks/{task_id}/comments/"):
        ok = signed_in_schema["paths"][f"/api/v1/{path}"]["get"]["responses"]["200"]
        ref = ok["content"]["application/json"]["schema"]["$ref"]
        page = signed_in_schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"count", "next", "previous", "results"} <= set(page["properties"])


def test_member_roles_are_enums(signed_in_schema: dict[str, Any]) -> None:
    enums = signed_in_schema["components"]["schemas"]
    assert enums["TeamRoleEnum"]["enum"] == ["owner", "admin", "member"]
    assert enums["AddableTeamRoleEnum"]["enum"] == ["admin", "member"]


def test_comments_and_preferences_are_described(signed_in_schema: dict[str, Any]) -> None:
    schemas = signed_in_schema["components"]["schemas"]
    comment = schemas["CommentOutput"]["properties"]
    assert set(comment) == {
        "id",
        "task",
        "author",
        "body",
        "mentions",
        "created_at",
        "updated_at",
        "edited",
    }
    assert comment["mentions"]["items"]["type"] == "integer"
    assert schemas["CommentInputRequest"]["properties"]["body"]["maxLength"] == 10_000
    preferences = schemas["Preferences"]["properties"]
    assert set(preferences["email_types"]["properties"]) == {
        "task_assigned",
        "task_status_changed",
        "task_commented",
        "mentioned",
        "deadline_approaching",
        "task_overdue",
    }
    delay = schemas["PatchedPreferencesInputRequest"]["properties"]["email_delay_minutes"]
    assert (delay["minimum"], delay["maximum"]) == (0, 1440)
