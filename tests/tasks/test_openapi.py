"""The OpenAPI schema describes every task and inbox endpoint, its parameters and its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User

Api = Callable[[User | None], APIClient]

LIST_FILTERS = {
    "team",
    "status",
    "assignee",
    "priority",
    "due_before",
    "due_after",
    "overdue",
    "search",
    "ordering",
    "page",
    "page_size",
}


@pytest.fixture
def schema(api: Api, alice: User) -> dict[str, Any]:
    response = api(alice).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return dict(response.json())


def operation(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    result: dict[str, Any] = schema["paths"][f"/api/v1/{path}"][method]
    return result


def parameters(op: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["name"], p["in"]) for p in op.get("parameters", [])}


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("tasks/", "get", {"200", "304", "400", "401", "404"}),
        ("tasks/", "post", {"201", "400", "401", "409", "422"}),
        ("tasks/{task_id}/", "get", {"200", "304", "401", "404"}),
        ("tasks/{task_id}/", "patch", {"200", "400", "401", "404", "412"}),
        ("tasks/{task_id}/", "delete", {"204", "401", "403", "404"}),
        ("tasks/{task_id}/activity/", "get", {"200", "401", "404"}),
        ("notifications/", "get", {"200", "400", "401", "404"}),
        ("notifications/unread-count/", "get", {"200", "401"}),
        ("notifications/{notification_id}/read/", "post", {"200", "401", "404", "409", "422"}),
        ("notifications/read-all/", "post", {"200", "401", "409", "422"}),
    ],
)
def test_every_endpoint_lists_its_responses(
    schema: dict[str, Any], path: str, method: str, codes: set[str]
) -> None:
    assert set(operation(schema, path, method)["responses"]) == codes


def test_task_list_documents_every_filter_ordering_and_page(schema: dict[str, Any]) -> None:
    op = operation(schema, "tasks/", "get")

    assert {name for name, where in parameters(op) if where == "query"} == LIST_FILTERS
    ordering = next(p for p in op["parameters"] if p["name"] == "ordering")
    assert set(ordering["schema"]["items"]["enum"]) == {
        f"{sign}{key}"
        for sign in ("", "-")
        for key in ("due_at", "priority", "created_at", "updated_at")
    }
    page = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema["components"]["schemas"][page.rsplit("/", 1)[1]]["properties"]) == {
        "count",
        "next",
        "previous",
        "results",
    }


def test_patch_documents_if_match_and_etag(schema: dict[str, Any]) -> None:
    op = operation(schema, "tasks/{task_id}/", "patch")

    assert ("If-Match", "header") in parameters(op)
    assert "ETag" in op["responses"]["200"]["headers"]
    assert "headers" not in op["responses"]["412"]


def test_inbox_list_documents_unread_and_pages(schema: dict[str, Any]) -> None:
    op = operation(schema, "notifications/", "get")

    assert {("unread", "query"), ("page", "query"), ("page_size", "query")} <= parameters(op)


@pytest.mark.parametrize("path", ["tasks/", "tasks/{task_id}/"])
def test_reads_document_if_none_match_and_etag(schema: dict[str, Any], path: str) -> None:
    op = operation(schema, path, "get")

    assert ("If-None-Match", "header") in parameters(op)
    assert "ETag" in op["responses"]["200"]["headers"]
    assert "ETag" in op["responses"]["304"]["headers"]
    assert "content" not in op["responses"]["304"]
