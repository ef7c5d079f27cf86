"""What a notification email says: one email for all of a recipient's waiting notifications.

A digest of one reads like a single notification (`[Platform] alice assigned you "Fix login"`);
a digest of several names the count and leads with the most important one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string

from taskflow_core.accounts.models import User
from taskflow_core.notifications.deadlines import deadline_relative, deadline_text
from taskflow_core.notifications.models import IMPORTANCE, Notification, NotificationType

AUTOMATIC_ACTOR = "TaskFlow Pro (automatic deadline reminder)"
PRODUCT = "TaskFlow Pro"
# A digest lists this many notifications and counts the rest; the inbox has them all.
DIGEST_MAX_ITEMS = 50


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def importance_key(notification: Notification) -> tuple[int, datetime, int]:
    """Most important type first, then oldest first."""
    return (
        IMPORTANCE.index(NotificationType(notification.type)),
        notification.created_at,
        notification.pk,
    )


def _headline(notification: Notification, now: datetime) -> str:
    task = notification.task
    if task is None:
        return notification.message
    if notification.type == NotificationType.TASK_ASSIGNED:
        who = notification.actor.username if notification.actor else "Someone"
        return f'{who} assigned you "{task.title}"'
    if notification.type == NotificationType.DEADLINE_APPROACHING and task.due_at is not None:
        return f'"{task.title}" is due {deadline_relative(task.due_at, now)}'
    if notification.type == NotificationType.TASK_OVERDUE:
        return f'"{task.title}" is overdue'
    return notification.message


def _item(notification: Notification, now: datetime) -> dict[str, Any]:
    task = notification.task
    item: dict[str, Any] = {
        "headline": _headline(notification, now),
        "actor": notification.actor.username if notification.actor else AUTOMATIC_ACTOR,
        "task": None,
    }
    if task is not None:  # None: the task was deleted after the notification was made
        item["task"] = {
            "id": task.pk,
            "path": f"/api/v1/tasks/{task.pk}/",
            "title": task.title,
            "team": task.team.name,
            "status": task.get_status_display(),
            "priority": task.get_priority_display(),
            "deadline": deadline_text(task.due_at) if task.due_at else "no deadline",
            "deadline_relative": deadline_relative(task.due_at, now) if task.due_at else "",
        }
    return item


def digest_content(
    *, recipient: User, notifications: Sequence[Notification], now: datetime
) -> EmailContent:
    """The email for `notifications` (at least one), most important first."""
    ordered = sorted(notifications, key=importance_key)
    items = [_item(notification, now) for notification in ordered[:DIGEST_MAX_ITEMS]]
    count = len(ordered)
    first = items[0]
    teams = {notification.task.team_id for notification in ordered if notification.task}
    prefix = first["task"]["team"] if first["task"] and len(teams) == 1 else PRODUCT
    if count == 1:
        subject = f"[{prefix}] {first['headline']}"
    else:
        subject = f"[{prefix}] {count} notifications: {first['headline']}, and {count - 1} more"
    context = {
        "recipient": recipient.username,
        "count": count,
        "items": items,
        "not_listed": count - len(items),
    }
    return EmailContent(
        subject=subject[:255],
        text=render_to_string("notifications/digest.txt", context),
        html=render_to_string("notifications/digest.html", context),
    )
