"""Odd but possible input never becomes a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Team

Api = Callable[[User | None], APIClient]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"team": str(10**20)}, 400),
        ({"assignee": str(10**20)}, 400),
        ({"page": str(10**20)}, 404),
        ({"page": "abc"}, 404),
        ({"page_size": "-3"}, 200),
        ({"search": "\x00"}, 400),
        ({"ordering": ""}, 200),
        ({"due_before": "9999-12-31T23:59:59-05:00"}, 200),
    ],
)
def test_odd_list_parameters(
    api: Api, alice: User, task: Task, params: dict[str, str], status: int
) -> None:
    assert api(alice).get("/api/v1/tasks/", params).status_code == status


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "nul \x00 byte"},
        {"due_at": "9999-12-31T23:59:59-05:00"},
        {"due_at": 12},
        {"assignee": -1},
        {"assignee": 2**63},
        {"assignee": 987_654_321},
        {"assignee": "abc"},
        {"assignee": True},
        {"assignee": [1]},
        {"title": ["a list"]},
    ],
)
def test_odd_create_bodies_are_400(
    api: Api, alice: User, team: Team, fields: dict[str, object]
) -> None:
    body = {"team": team.pk, "title": "Ship"} | fields

    response = api(alice).post("/api/v1/tasks/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [next(iter(fields))]


@pytest.mark.parametrize("assignee", [-1, 0, 2**63, 987_654_321, "abc", True, 1.5, {}])
def test_odd_assignees_in_an_update_are_400_naming_it(
    api: Api, alice: User, task: Task, assignee: object
) -> None:
    response = api(alice).patch(f"/api/v1/tasks/{task.pk}/", {"assignee": assignee}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["assignee"]
    task.refresh_from_db()
    assert task.assignee_id is None


def test_garbage_token_is_401(api: Api, task: Task) -> None:
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    assert client.get("/api/v1/tasks/").status_code == 401
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 401
    assert client.get("/api/v1/notifications/").status_code == 401
