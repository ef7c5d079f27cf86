"""`GET /api/v1/`: a JSON index of the API's entry points, not a 404 page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_index_links_every_entry_point_without_a_token(settings: object) -> None:
    settings.ALLOWED_HOSTS = ["tasks.example.com"]  # type: ignore[attr-defined]
    response = APIClient().get("/api/v1/", HTTP_HOST="tasks.example.com")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "name": "TaskFlow Pro API",
        "version": "v1",
        "docs": "http://tasks.example.com/api/docs/",
        "schema": "http://tasks.example.com/api/v1/schema/",
        "health": "http://tasks.example.com/api/v1/health/",
        "websocket": "ws://tasks.example.com/ws",
        "resources": {
            "register": "http://tasks.example.com/api/v1/auth/register/",
            "token": "http://tasks.example.com/api/v1/auth/token/",
            "token_refresh": "http://tasks.example.com/api/v1/auth/token/refresh/",
            "logout": "http://tasks.example.com/api/v1/auth/logout/",
            "me": "http://tasks.example.com/api/v1/users/me/",
            "teams": "http://tasks.example.com/api/v1/teams/",
            "tasks": "http://tasks.example.com/api/v1/tasks/",
            "notifications": "http://tasks.example.com/api/v1/notifications/",
        },
    }


def test_behind_tls_the_links_are_https_and_wss(settings: object) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # type: ignore[attr-defined]
    response = APIClient().get("/api/v1/", HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")

    assert response.json()["docs"] == "https://localhost/api/docs/"
    assert response.json()["websocket"] == "wss://localhost/ws"


def test_every_link_answers(alice: User, api: Callable[[User | None], APIClient]) -> None:
    index = APIClient().get("/api/v1/").json()
    client = api(alice)
    readable = ["docs", "schema", "health"]
    for name in readable:
        assert client.get(urlsplit(index[name]).path).status_code == 200, name
    for name in ("me", "teams", "tasks", "notifications"):
        assert client.get(urlsplit(index["resources"][name]).path).status_code == 200, name
    for name in ("register", "token", "token_refresh", "logout"):
        # POST-only: the view is there (405 names the allowed method), not a 404.
        response = client.get(urlsplit(index["resources"][name]).path)
        assert response.status_code == 405, name
        assert "POST" in response["Allow"]


def test_the_index_is_in_the_schema() -> None:
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    operation = schema.json()["paths"]["/api/v1/"]["get"]

    assert operation["operationId"] == "api_index"
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[1]
    properties = schema.json()["components"]["schemas"][ref]["properties"]
    assert {"docs", "schema", "health", "websocket", "resources"} <= set(properties)
