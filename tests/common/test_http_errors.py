"""Requests no API view handles still get the API's JSON error shape under /api/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client, RequestFactory

from taskflow_core.accounts.models import User
from taskflow_core.common.http_errors import server_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/v1/nowhere/", "/api/v1/teams/abc/", "/api/v1/teams/1/members/me/"]
)
def test_unknown_api_paths_are_a_json_404(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_foreign_host_header_is_a_json_400() -> None:
    response = Client().get("/api/v1/health/", HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_a_crash_under_the_api_is_a_json_500_without_details() -> None:
    response = server_error(RequestFactory().get("/api/v1/teams/"))

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b'{"detail": "Server error."}'


def test_the_admin_keeps_its_html_404(make_user: Callable[..., User]) -> None:
    staff = Client()
    staff.force_login(make_user("root", is_staff=True, is_superuser=True))

    response = staff.get("/admin/nowhere/")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
