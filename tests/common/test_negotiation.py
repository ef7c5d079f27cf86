"""Content negotiation remembers its answers per Accept header, format and renderers, and
still answers each combination as DRF would (common/negotiation.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from taskflow_core.common.negotiation import REMEMBERED, RememberingContentNegotiation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget() -> None:
    RememberingContentNegotiation.answers.clear()


def test_each_accept_header_gets_its_own_answer_however_often_asked() -> None:
    client = APIClient()
    for _ in range(2):  # the second round is answered from memory
        plain = client.get("/api/v1/", HTTP_ACCEPT="application/json")
        indented = client.get("/api/v1/", HTTP_ACCEPT="application/json; indent=2")
        anything = client.get("/api/v1/", HTTP_ACCEPT="*/*")
        assert plain.status_code == indented.status_code == anything.status_code == 200
        assert {r["Content-Type"] for r in (plain, indented, anything)} == {"application/json"}
        assert b"\n" not in plain.content
        assert indented.content.startswith(b'{\n  "name"')
        assert plain.json() == indented.json() == anything.json()


def test_an_unacceptable_type_is_a_406_every_time() -> None:
    client = APIClient()
    for _ in range(2):
        response = client.get("/api/v1/", HTTP_ACCEPT="application/xml")
        assert response.status_code == 406
        assert response.json() == {"detail": "Could not satisfy the request Accept header."}
    assert not RememberingContentNegotiation.answers


def test_the_format_and_the_views_renderers_are_part_of_the_answer() -> None:
    client = APIClient()
    for _ in range(2):
        yaml = client.get("/api/v1/schema/", HTTP_ACCEPT="*/*")
        json = client.get("/api/v1/schema/?format=json", HTTP_ACCEPT="*/*")
        index = client.get("/api/v1/", HTTP_ACCEPT="*/*")
        assert yaml["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
        assert yaml.content.startswith(b"openapi: 3")
        assert json["Content-Type"] == "application/vnd.oai.openapi+json"
        assert json.json()["openapi"].startswith("3")
        assert index["Content-Type"] == "application/json"


def test_a_flood_of_distinct_headers_keeps_a_bounded_memory() -> None:
    client = APIClient()
    for n in range(REMEMBERED + 50):
        response = client.get("/api/v1/", HTTP_ACCEPT=f"application/json; x={n}")
        assert response.status_code == 200
    assert 0 < len(RememberingContentNegotiation.answers) <= REMEMBERED
