"""Who is notified when a task changes (docs/api.md, "Who is notified"), and never the actor
themself."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Team

Api = Callable[[User | None], APIClient]
MakeTask = Callable[..., Task]


def inbox(user: User) -> list[tuple[str, int | None, int | None]]:
    return [
        (n.type, n.task_id, n.actor_id)
        for n in Notification.objects.filter(recipient=user).order_by("id")
    ]


def patch(client: APIClient, task: Task, **body: object) -> None:
    response = client.patch(f"/api/v1/tasks/{task.pk}/", body, format="json")
    assert response.status_code == 200, response.json()


def test_assignee_is_notified_when_assigned_at_creation(
    api: Api, alice: User, bob: User, team: Team
) -> None:
    response = api(alice).post(
        "/api/v1/tasks/", {"team": team.pk, "title": "Ship", "assignee": bob.pk}, format="json"
    )

    assert inbox(bob) == [("task_assigned", response.json()["id"], alice.pk)]
    assert inbox(alice) == []


def test_assignee_is_notified_when_assigned_later_and_when_reassigned(
    api: Api, alice: User, bob: User, carol: User, task: Task
) -> None:
    patch(api(alice), task, assignee=bob.pk)
    patch(api(alice), task, assignee=carol.pk)

    assert inbox(bob) == [("task_assigned", task.pk, alice.pk)]
    assert inbox(carol) == [("task_assigned", task.pk, alice.pk)]
    assert inbox(alice) == []


def test_assigning_yourself_notifies_nobody(
    api: Api, alice: User, bob: User, team: Team, task: Task
) -> None:
    patch(api(bob), task, assignee=bob.pk)
    api(alice).post(
        "/api/v1/tasks/", {"team": team.pk, "title": "Mine", "assignee": alice.pk}, format="json"
    )

    assert Notification.objects.count() == 0


def test_unchanged_assignee_is_not_notified_again(
    api: Api, alice: User, bob: User, task: Task
) -> None:
    patch(api(alice), task, assignee=bob.pk)
    patch(api(alice), task, assignee=bob.pk, title="Renamed")

    assert inbox(bob) == [("task_assigned", task.pk, alice.pk)]


def test_status_change_by_a_third_member_notifies_creator_and_assignee(
    api: Api, alice: User, bob: User, carol: User, make_task: MakeTask
) -> None:
    task = make_task(assignee=bob)  # by Alice: Bob gets task_assigned
    patch(api(carol), task, status="in_progress")

    assert inbox(alice) == [("task_status_changed", task.pk, carol.pk)]
    assert inbox(bob) == [
        ("task_assigned", task.pk, alice.pk),
        ("task_status_changed", task.pk, carol.pk),
    ]
    assert inbox(carol) == []


def test_status_change_by_the_assignee_notifies_only_the_creator(
    api: Api, alice: User, bob: User, make_task: MakeTask
) -> None:
    task = make_task(assignee=bob)
    Notification.objects.all().delete()
    patch(api(bob), task, status="done")

    assert inbox(alice) == [("task_status_changed", task.pk, bob.pk)]
    assert inbox(bob) == []


def test_status_change_by_the_creator_notifies_only_the_assignee(
    api: Api, alice: User, bob: User, make_task: MakeTask
) -> None:
    task = make_task(assignee=bob)
    Notification.objects.all().delete()
    patch(api(alice), task, status="blocked")

    assert inbox(bob) == [("task_status_changed", task.pk, alice.pk)]
    assert inbox(alice) == []


def test_creator_who_is_also_assignee_is_notified_once(
    api: Api, alice: User, bob: User, make_task: MakeTask
) -> None:
    task = make_task(assignee=alice)
    patch(api(bob), task, status="in_progress")

    assert inbox(alice) == [("task_status_changed", task.pk, bob.pk)]


def test_other_changes_notify_nobody(api: Api, bob: User, make_task: MakeTask) -> None:
    task = make_task()
    patch(api(bob), task, title="New title", priority="urgent", description="more")

    assert Notification.objects.count() == 0
