"""Deadline alerts raised by beat + worker: once per (task, kind, due_at), as inbox rows,
`notification.created` events and emails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.events.models import OutboxEvent
from taskflow_core.notifications.models import Notification, NotificationType
from taskflow_core.tasks.models import Status, Task
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Team
from tests.emails.background import Mailbox, wait_for_log, wait_until
from tests.support.processes import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SCAN_DONE = "deadline scan finished"


def alerts(task: Task, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(task=task, type=kind))


def let_scans_run(worker: ServerProcess, scans: int = 3) -> None:
    """Wait until `scans` more scans have completed in the worker."""
    seen = worker.output().count(SCAN_DONE)
    wait_for_log(worker, SCAN_DONE, count=seen + scans)


def emails_about(mailbox: Mailbox, task: Task, words: str) -> list[str]:
    return [
        mail.subject
        for mail in mailbox.received
        if task.title in mail.subject and words in mail.subject
    ]


def all_sent() -> bool:
    return not EmailDelivery.objects.exclude(status=DeliveryStatus.SENT).exists()


def test_deadline_alerts_are_raised_once_per_due_at(
    mailbox: Mailbox, background: ServerProcess, team: Team, alice: User, bob: User
) -> None:
    now = timezone.now()
    soon = task_create(team=team, actor=alice, title="Renew the certificate", assignee=bob)
    task_update(task_id=soon.pk, actor=alice, data={"due_at": now + timedelta(minutes=30)})
    late = task_create(
        team=team, actor=alice, title="File the report", due_at=now - timedelta(minutes=5)
    )
    finished = task_create(
        team=team,
        actor=alice,
        title="Already shipped",
        status=Status.DONE,
        due_at=now + timedelta(minutes=20),
    )

    wait_until(lambda: alerts(soon, NotificationType.DEADLINE_APPROACHING), what="approaching")
    wait_until(lambda: alerts(late, NotificationType.TASK_OVERDUE), what="overdue")
    let_scans_run(background)
    wait_until(all_sent, what="every email sent")

    # The assignee hears about the approaching deadline; the unassigned task's creator about
    # the overdue one, which never got an "approaching" alert; the done task, nothing.
    (approaching,) = alerts(soon, NotificationType.DEADLINE_APPROACHING)
    assert approaching.recipient == bob
    assert approaching.actor is None
    assert approaching.message.startswith('"Renew the certificate" is due in 2')  # 29, 28... min
    assert "minutes (" in approaching.message
    (overdue,) = alerts(late, NotificationType.TASK_OVERDUE)
    assert overdue.recipient == alice
    assert alerts(late, NotificationType.DEADLINE_APPROACHING) == []
    assert Notification.objects.filter(task=finished).count() == 0
    events = OutboxEvent.objects.filter(
        name="notification.created", data__notification__id=approaching.pk
    )
    assert [event.recipients for event in events] == [[bob.pk]]
    assert events[0].data["notification"]["type"] == "deadline_approaching"
    assert len(emails_about(mailbox, soon, "is due in")) == 1
    assert len(emails_about(mailbox, late, "is overdue")) == 1
    assert [m.recipients for m in mailbox.received if late.title in m.subject] == [
        ["alice@example.com"]
    ]
    assert emails_about(mailbox, finished, "") == []

    # A new deadline is a new key: alerted once more, and only once.
    task_update(task_id=soon.pk, actor=alice, data={"due_at": now + timedelta(minutes=45)})
    wait_until(
        lambda: len(alerts(soon, NotificationType.DEADLINE_APPROACHING)) == 2, what="re-armed"
    )
    let_scans_run(background)
    wait_until(all_sent, what="every email sent")
    assert len(alerts(soon, NotificationType.DEADLINE_APPROACHING)) == 2
    assert len(emails_about(mailbox, soon, "is due in")) == 2
    assert len(alerts(late, NotificationType.TASK_OVERDUE)) == 1
