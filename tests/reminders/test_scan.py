"""The deadline scan's rules, run in-process against the real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification, NotificationType
from taskflow_core.reminders.models import DeadlineAlert
from taskflow_core.reminders.services import CLAIM_SQL, deadline_scan
from taskflow_core.tasks.models import Status, Task
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Membership, Team

pytestmark = pytest.mark.django_db

APPROACHING = NotificationType.DEADLINE_APPROACHING
OVERDUE = NotificationType.TASK_OVERDUE


@pytest.fixture
def make_task(team: Team, alice: User) -> Callable[..., Task]:
    def make(minutes: int | None, **fields: object) -> Task:
        due_at = None if minutes is None else timezone.now() + timedelta(minutes=minutes)
        return task_create(team=team, actor=alice, title="T", due_at=due_at, **fields)  # type: ignore[arg-type]

    return make


def kinds(task: Task) -> list[tuple[str, int]]:
    return list(
        Notification.objects.filter(task=task).order_by("id").values_list("type", "recipient")
    )


def test_a_task_entering_the_lead_window_alerts_its_assignee_once(
    make_task: Callable[..., Task], bob: User
) -> None:
    task = make_task(30, assignee=bob)
    Notification.objects.all().delete()  # the assignment's own notification

    assert len(deadline_scan()) == 1
    assert deadline_scan() == []
    assert kinds(task) == [(APPROACHING, bob.pk)]
    # It waits for the digest like every notification that wants an email.
    assert Notification.objects.get(task=task).email_due_at is not None


def test_without_assignee_the_creator_is_alerted(
    make_task: Callable[..., Task], alice: User
) -> None:
    task = make_task(30)
    deadline_scan()
    assert kinds(task) == [(APPROACHING, alice.pk)]


def test_outside_the_window_closed_or_undated_tasks_get_nothing(
    make_task: Callable[..., Task],
) -> None:
    make_task(61)
    make_task(30, status=Status.DONE)
    make_task(-30, status=Status.CANCELLED)
    make_task(None)
    assert deadline_scan() == []
    assert Notification.objects.count() == 0


def test_a_task_first_seen_past_due_gets_only_the_overdue_alert(
    make_task: Callable[..., Task], alice: User
) -> None:
    task = make_task(-1)
    deadline_scan()
    deadline_scan()
    assert kinds(task) == [(OVERDUE, alice.pk)]


def test_an_approaching_deadline_later_passes_and_alerts_once_more(
    make_task: Callable[..., Task], alice: User
) -> None:
    task = make_task(30)
    deadline_scan()
    later = timezone.now() + timedelta(minutes=31)
    deadline_scan(now=later)
    deadline_scan(now=later + timedelta(minutes=5))
    assert kinds(task) == [(APPROACHING, alice.pk), (OVERDUE, alice.pk)]


def test_moving_the_deadline_re_arms_the_alert(make_task: Callable[..., Task], alice: User) -> None:
    task = make_task(30)
    deadline_scan()
    task_update(
        task_id=task.pk, actor=alice, data={"due_at": timezone.now() + timedelta(minutes=50)}
    )
    deadline_scan()
    deadline_scan()
    assert kinds(task) == [(APPROACHING, alice.pk), (APPROACHING, alice.pk)]
    assert DeadlineAlert.objects.filter(task=task).count() == 2


def test_the_claim_reads_the_open_tasks_deadline_index() -> None:
    sql = CLAIM_SQL.format(alert=DeadlineAlert._meta.db_table, task=Task._meta.db_table)
    now = timezone.now()
    params: dict[str, Any] = {
        "now": now,
        "horizon": now + timedelta(hours=1),
        "overdue": "task_overdue",
        "approaching": "deadline_approaching",
        "closed": ["done", "cancelled"],
        "batch": 500,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be seq-scanned
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "task_open_due_at" in plan


def test_a_creator_who_left_the_team_is_not_alerted(bob: User, team: Team) -> None:
    task = task_create(
        team=team, actor=bob, title="T", due_at=timezone.now() + timedelta(minutes=30)
    )
    Membership.objects.filter(team=team, user=bob).delete()

    deadline_scan()
    deadline_scan()

    assert kinds(task) == []
    assert DeadlineAlert.objects.filter(task=task).count() == 1  # claimed once, never retried
