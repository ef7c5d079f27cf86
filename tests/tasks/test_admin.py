"""The Django admin for tasks, activity and notifications."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Membership, Role, Team
from tests.tasks.conftest import add_form


@pytest.fixture
def staff(admin_user: User, team: Team) -> User:
    """A superuser who also owns the team (so the service rules apply to them as to anyone)."""
    Membership.objects.create(team=team, user=admin_user, role=Role.ADMIN)
    return admin_user


def form(task: Task, **changes: Any) -> dict[str, Any]:
    activity = task.activity.count()
    values = {
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "due_at_0": "",
        "due_at_1": "",
        "assignee": task.assignee_id or "",
        "activity-TOTAL_FORMS": activity,
        "activity-INITIAL_FORMS": activity,
        "activity-MIN_NUM_FORMS": 0,
        "activity-MAX_NUM_FORMS": 1000,
    }
    return values | changes


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tasks/task/",
        "/admin/tasks/task/?status__exact=todo&priority__exact=medium",
        "/admin/tasks/taskactivity/",
        "/admin/notifications/notification/",
        "/admin/notifications/notification/?type__exact=task_assigned",
    ],
)
def test_changelists_load(
    admin_client: Client, staff: User, task: Task, bob: User, path: str
) -> None:
    Notification.objects.create(recipient=bob, type="task_assigned", task=task, message="hi")

    assert admin_client.get(path).status_code == 200


def test_task_change_page_shows_its_activity(admin_client: Client, staff: User, task: Task) -> None:
    response = admin_client.get(f"/admin/tasks/task/{task.pk}/change/")

    assert response.status_code == 200
    assert b"created" in response.content


def test_editing_a_task_in_the_admin_goes_through_the_service(
    admin_client: Client, staff: User, task: Task, bob: User
) -> None:
    response = admin_client.post(
        f"/admin/tasks/task/{task.pk}/change/", form(task, status="done", assignee=bob.pk)
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.status == "done"
    assert task.completed_at is not None
    assert task.version == 2
    last = task.activity.last()
    assert last is not None
    assert last.actor == staff
    assert last.changes == {"status": ["todo", "done"], "assignee": [None, bob.pk]}
    assert Notification.objects.filter(recipient=bob, type="task_assigned").exists()


def test_admin_refuses_an_assignee_outside_the_team(
    admin_client: Client, staff: User, task: Task, mallory: User
) -> None:
    response = admin_client.post(
        f"/admin/tasks/task/{task.pk}/change/", form(task, assignee=mallory.pk)
    )

    assert response.status_code == 200
    assert "assignee" in response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.version == 1


def test_adding_a_task_in_the_admin_goes_through_the_service(
    admin_client: Client, staff: User, team: Team
) -> None:
    response = admin_client.post(
        "/admin/tasks/task/add/", add_form(team, "From the admin", priority="high")
    )

    assert response.status_code == 302
    task = Task.objects.get(title="From the admin")
    assert task.created_by == staff
    assert task.priority_rank == 2
    assert list(task.activity.values_list("verb", flat=True)) == ["created"]


def test_mark_read_action(admin_client: Client, staff: User, bob: User, task: Task) -> None:
    notification = Notification.objects.create(
        recipient=bob, type="task_assigned", task=task, message="hi"
    )

    response = admin_client.post(
        "/admin/notifications/notification/",
        {"action": "mark_read", "_selected_action": [notification.pk]},
    )

    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None
