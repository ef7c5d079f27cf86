"""Every task change made through the API leaves its domain event in the outbox; refused
changes leave none (what live boards receive rests on this)."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Team

Api = Callable[[User | None], APIClient]


def task_events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(name__startswith="task.").order_by("id"))


def test_create_update_delete_each_emit_one_event_to_the_team(
    api: Api, alice: User, bob: User, team: Team
) -> None:
    client = api(alice)
    created = client.post("/api/v1/tasks/", {"team": team.pk, "title": "Ship"}, format="json")
    task_id = created.json()["id"]
    client.patch(f"/api/v1/tasks/{task_id}/", {"priority": "high"}, format="json")
    client.delete(f"/api/v1/tasks/{task_id}/")

    events = task_events()
    assert [event.name for event in events] == ["task.created", "task.updated", "task.deleted"]
    assert all(event.team_id == team.pk for event in events)
    assert all(event.recipients == sorted([alice.pk, bob.pk]) for event in events)
    assert all(event.actor == {"id": alice.pk, "username": "alice"} for event in events)
    assert events[0].data["task"] == {**created.json(), "description_truncated": False}
    assert events[1].data["changes"] == {"priority": ["medium", "high"]}
    assert events[1].data["task"]["version"] == 2
    # The deletion carries the version it deleted: it follows that update (docs/events.md).
    assert events[2].data == {"task": {"id": task_id, "version": 2}}


def test_refused_and_no_op_changes_emit_nothing(
    api: Api, alice: User, bob: User, mallory: User, task: Task
) -> None:
    before = len(task_events())
    url = f"/api/v1/tasks/{task.pk}/"

    assert api(alice).patch(url, {"title": ""}, format="json").status_code == 400
    assert (
        api(alice).patch(url, {"title": "x"}, format="json", headers={"If-Match": '"5"'})
    ).status_code == 412
    assert api(alice).patch(url, {"title": task.title}, format="json").status_code == 200
    assert api(bob).delete(url).status_code == 403
    assert api(mallory).patch(url, {"title": "x"}, format="json").status_code == 404

    assert len(task_events()) == before
