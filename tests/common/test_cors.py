"""Browser front ends on the origins named in CORS_ALLOWED_ORIGINS may call the API."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

ALLOWED = "https://app.example.com"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def allowed_origins(settings: Settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def test_an_allowed_origin_may_preflight_an_authenticated_post() -> None:
    response = Client().options(
        "/api/v1/teams/",
        HTTP_ORIGIN=ALLOWED,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers


def test_an_allowed_origin_can_read_the_response() -> None:
    response = Client().get("/api/v1/health/", HTTP_ORIGIN=ALLOWED)
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_any_other_origin_gets_no_cors_headers() -> None:
    response = Client().get("/api/v1/health/", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response.headers
