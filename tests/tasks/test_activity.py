"""`GET /api/v1/tasks/{id}/activity/`."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task

Api = Callable[[User | None], APIClient]


def url(task: Task) -> str:
    return f"/api/v1/tasks/{task.pk}/activity/"


def test_activity_records_who_changed_which_field_from_what_to_what(
    api: Api, alice: User, bob: User, task: Task
) -> None:
    assert (
        api(bob)
        .patch(
            f"/api/v1/tasks/{task.pk}/",
            {"status": "in_progress", "assignee": bob.pk},
            format="json",
        )
        .status_code
        == 200
    )
    assert (
        api(alice)
        .patch(
            f"/api/v1/tasks/{task.pk}/",
            {"title": "Renamed", "due_at": "2031-01-02T03:04:05Z"},
            format="json",
        )
        .status_code
        == 200
    )

    response = api(bob).get(url(task))

    assert response.status_code == 200
    entries = response.json()["results"]
    assert response.json()["count"] == 3
    assert [(e["actor"], e["verb"]) for e in entries] == [
        ({"id": alice.pk, "username": "alice"}, "created"),
        ({"id": bob.pk, "username": "bob"}, "updated"),
        ({"id": alice.pk, "username": "alice"}, "updated"),
    ]
    assert entries[0]["changes"] == {}
    assert entries[1]["changes"] == {"status": ["todo", "in_progress"], "assignee": [None, bob.pk]}
    assert entries[2]["changes"] == {
        "title": ["Write the release notes", "Renamed"],
        "due_at": [None, "2031-01-02T03:04:05Z"],
    }
    assert all(entry["created_at"] for entry in entries)
    assert set(entries[0]) == {"id", "actor", "verb", "changes", "created_at"}


def test_no_op_patch_records_nothing(api: Api, alice: User, task: Task) -> None:
    api(alice).patch(f"/api/v1/tasks/{task.pk}/", {"title": task.title}, format="json")

    assert api(alice).get(url(task)).json()["count"] == 1


def test_non_member_gets_404(api: Api, mallory: User, task: Task) -> None:
    assert api(mallory).get(url(task)).status_code == 404


def test_requires_authentication(api: Api, task: Task) -> None:
    assert api(None).get(url(task)).status_code == 401
