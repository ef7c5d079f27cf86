"""`POST|DELETE /tasks/{id}/watch/`: choosing to hear about a task, or not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.models import Task, TaskWatcher
from taskflow_core.tasks.services import task_update

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


def watch_url(task: Task) -> str:
    return f"/api/v1/tasks/{task.pk}/watch/"


def status_notices(user: User) -> int:
    return Notification.objects.filter(recipient=user, type="task_status_changed").count()


def test_watching_brings_status_changes_and_unwatching_stops_them(
    api: Api, task: Task, alice: User, bob: User, carol: User
) -> None:
    assert api(carol).post(watch_url(task)).status_code == 204
    assert api(carol).post(watch_url(task)).status_code == 204  # idempotent
    task_update(task_id=task.pk, actor=bob, data={"status": "in_progress"})
    assert status_notices(carol) == 1

    assert api(carol).delete(watch_url(task)).status_code == 204
    assert api(carol).delete(watch_url(task)).status_code == 204
    task_update(task_id=task.pk, actor=bob, data={"status": "done"})
    assert status_notices(carol) == 1


def test_the_creator_may_unwatch_too(api: Api, task: Task, alice: User, bob: User) -> None:
    assert api(alice).delete(watch_url(task)).status_code == 204
    task_update(task_id=task.pk, actor=bob, data={"status": "in_progress"})
    assert status_notices(alice) == 0


def test_outsiders_cannot_watch(api: Api, task: Task, mallory: User) -> None:
    assert api(mallory).post(watch_url(task)).status_code == 404
    assert api(None).post(watch_url(task)).status_code == 401
    assert not TaskWatcher.objects.filter(user=mallory).exists()


def test_a_member_who_leaves_stops_watching(
    api: Api, task: Task, alice: User, bob: User, carol: User
) -> None:
    api(carol).post(watch_url(task))
    assert api(carol).delete(f"/api/v1/teams/{task.team_id}/members/{carol.pk}/").status_code == 204
    task_update(task_id=task.pk, actor=bob, data={"status": "in_progress"})

    assert status_notices(carol) == 0
    assert not TaskWatcher.objects.filter(user=carol).exists()
