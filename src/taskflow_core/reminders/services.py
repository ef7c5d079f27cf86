"""The deadline scan: claim each (task, kind, due_at) alert once, then notify for the claims."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from taskflow_core.notifications.deadlines import deadline_relative, deadline_text
from taskflow_core.notifications.services import notification_create
from taskflow_core.reminders.models import AlertKind, DeadlineAlert
from taskflow_core.tasks.models import CLOSED_STATUSES, Task
from taskflow_core.teams.models import Membership

logger = logging.getLogger(__name__)

# Claims and their notifications commit together, a batch at a time, so a backlog (the first
# scan of a big database, a long outage) never becomes one huge transaction.
SCAN_BATCH = 500

# One statement finds the due tasks and claims their alerts. The WHERE clause repeats the
# predicate of the partial index `task_open_due_at` so the planner reads only open tasks with a
# deadline up to the horizon. A task already past due gets `task_overdue` only. ON CONFLICT
# DO NOTHING makes a concurrent scan wait for the first one's commit and then insert nothing,
# and RETURNING yields exactly the rows this scan won.
CLAIM_SQL = """
INSERT INTO {alert} (task_id, kind, due_at, recipient_id, created_at)
SELECT c.id, c.kind, c.due_at, c.recipient_id, %(now)s
FROM (
    SELECT t.id,
           t.due_at,
           CASE WHEN t.due_at <= %(now)s THEN %(overdue)s ELSE %(approaching)s END AS kind,
           COALESCE(t.assignee_id, t.created_by_id) AS recipient_id
    FROM {task} t
    WHERE t.due_at IS NOT NULL
      AND NOT (t.status = ANY(%(closed)s))
      AND t.due_at <= %(horizon)s
) c
WHERE NOT EXISTS (
    SELECT 1 FROM {alert} a WHERE a.task_id = c.id AND a.kind = c.kind AND a.due_at = c.due_at
)
ORDER BY c.due_at
LIMIT %(batch)s
ON CONFLICT (task_id, kind, due_at) DO NOTHING
RETURNING id
"""


def _claim(now: datetime) -> list[int]:
    sql = CLAIM_SQL.format(alert=DeadlineAlert._meta.db_table, task=Task._meta.db_table)
    params: dict[str, Any] = {
        "now": now,
        "horizon": now + timedelta(minutes=settings.TASKFLOW_REMINDER_LEAD_MINUTES),
        "overdue": AlertKind.TASK_OVERDUE.value,
        "approaching": AlertKind.DEADLINE_APPROACHING.value,
        "closed": [str(status) for status in CLOSED_STATUSES],
        "batch": SCAN_BATCH,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _message(alert: DeadlineAlert, title: str, now: datetime) -> str:
    when = deadline_text(alert.due_at)
    if alert.kind == AlertKind.TASK_OVERDUE:
        return f'"{title}" is overdue: it was due {when}'
    return f'"{title}" is due {deadline_relative(alert.due_at, now)} ({when})'


@transaction.atomic
def _scan_batch(now: datetime) -> tuple[int, list[DeadlineAlert]]:
    claimed = _claim(now)
    alerts = DeadlineAlert.objects.filter(pk__in=claimed).select_related(
        "task__team", "task__assignee", "task__created_by"
    )
    notified: list[DeadlineAlert] = []
    for alert in alerts.order_by("due_at", "pk"):
        task = alert.task
        # Closed or rescheduled after the claim read it: no alert, and no claim left behind
        # that would silence the alert if the task is reopened with this deadline.
        if task.status in CLOSED_STATUSES or task.due_at != alert.due_at:
            alert.delete()
            continue
        recipient = task.assignee or task.created_by
        if not Membership.objects.filter(team_id=task.team_id, user=recipient).exists():
            # The unassigned task's creator has left the team: nobody outside a team hears
            # of its tasks. The claim stays, so later scans do not try again.
            continue
        notification_create(
            recipient=recipient,
            type=alert.kind,
            task_id=task.pk,
            team_id=task.team_id,
            actor=None,
            message=_message(alert, task.title, now),
        )
        notified.append(alert)
    return len(claimed), notified


def deadline_scan(*, now: datetime | None = None) -> list[DeadlineAlert]:
    """Raise `deadline_approaching` / `task_overdue` for open tasks that have not had it yet for
    their current `due_at`; the recipient is the assignee, else the creator."""
    now = now or timezone.now()
    raised: list[DeadlineAlert] = []
    while True:
        claimed, notified = _scan_batch(now)
        raised.extend(notified)
        if claimed < SCAN_BATCH:
            break
    if raised:
        logger.info("deadline scan raised %s alerts", len(raised))
    return raised
