"""`POST /api/v1/tasks/`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Team

URL = "/api/v1/tasks/"
Api = Callable[[User | None], APIClient]


def body(team: Team, /, **fields: Any) -> dict[str, Any]:
    return {"team": team.pk, "title": "Ship it"} | fields


def test_member_creates_a_task_with_every_field(api: Api, bob: User, team: Team) -> None:
    response = api(bob).post(
        URL,
        body(
            team,
            description="All of it",
            status="in_progress",
            priority="urgent",
            due_at="2031-05-06T07:08:09+02:00",
            assignee=bob.pk,
        ),
        format="json",
    )

    assert response.status_code == 201
    task = response.json()
    assert set(task) == {
        "id",
        "team",
        "title",
        "description",
        "status",
        "priority",
        "due_at",
        "assignee",
        "created_by",
        "created_at",
        "updated_at",
        "completed_at",
        "version",
    }
    assert task["team"] == team.pk
    assert task["title"] == "Ship it"
    assert task["description"] == "All of it"
    assert task["status"] == "in_progress"
    assert task["priority"] == "urgent"
    assert task["due_at"] == "2031-05-06T05:08:09Z"
    assert task["assignee"] == bob.pk
    assert task["created_by"] == bob.pk
    assert task["completed_at"] is None
    assert task["version"] == 1
    assert response["ETag"] == '"1"'
    assert response["Location"] == f"{URL}{task['id']}/"
    assert Task.objects.filter(pk=task["id"], team=team).exists()


def test_defaults(api: Api, alice: User, team: Team) -> None:
    response = api(alice).post(URL, body(team), format="json")

    assert response.status_code == 201
    task = response.json()
    assert task["description"] == ""
    assert task["status"] == "todo"
    assert task["priority"] == "medium"
    assert task["due_at"] is None
    assert task["assignee"] is None


def test_created_done_has_completed_at(api: Api, alice: User, team: Team) -> None:
    response = api(alice).post(URL, body(team, status="done"), format="json")

    assert response.status_code == 201
    assert response.json()["completed_at"] is not None


def test_requires_authentication(api: Api, team: Team) -> None:
    response = api(None).post(URL, body(team), format="json")

    assert response.status_code == 401
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": None}, "title"),
        ({"status": "finished"}, "status"),
        ({"priority": "critical"}, "priority"),
        ({"due_at": "next tuesday"}, "due_at"),
        ({"due_at": "2031-02-30T10:00:00Z"}, "due_at"),
        ({"assignee": 10**12}, "assignee"),
        ({"assignee": "bob"}, "assignee"),
        ({"team": None}, "team"),
        ({"team": 10**20}, "team"),
        ({"team": "platform"}, "team"),
        ({"version": 7}, "version"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_field_is_named(
    api: Api, alice: User, team: Team, fields: dict[str, Any], field: str
) -> None:
    response = api(alice).post(URL, body(team, **fields), format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Task.objects.exists()


def test_missing_title_and_team_are_named(api: Api, alice: User) -> None:
    response = api(alice).post(URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"team", "title"}


def test_title_of_200_characters_is_fine(api: Api, alice: User, team: Team) -> None:
    response = api(alice).post(URL, body(team, title="x" * 200), format="json")

    assert response.status_code == 201


def test_assignee_outside_the_team_is_refused(
    api: Api, alice: User, mallory: User, team: Team
) -> None:
    response = api(alice).post(URL, body(team, assignee=mallory.pk), format="json")

    assert response.status_code == 400
    assert response.json() == {"assignee": ["The assignee must be a member of the task's team."]}
    assert not Task.objects.exists()


def test_team_of_others_reads_as_unknown_team(api: Api, mallory: User, team: Team) -> None:
    """Not a member: 400 on `team` with the same message as for a team that does not exist."""
    foreign = api(mallory).post(URL, body(team), format="json")
    missing = api(mallory).post(URL, body(team, team=team.pk + 1000), format="json")

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert list(foreign.json()) == ["team"]
    assert not Task.objects.exists()


def test_malformed_json_is_400(api: Api, alice: User) -> None:
    response = api(alice).post(URL, '{"title": "x",', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_body_that_is_not_an_object_is_400(api: Api, alice: User) -> None:
    response = api(alice).post(URL, [1, 2], format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
