"""What a notification email says: subject, plain-text and HTML bodies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.timesince import timesince, timeuntil

from taskflow_core.notifications.models import Notification, NotificationType

AUTOMATIC_ACTOR = "TaskFlow Pro (automatic deadline reminder)"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def deadline_text(due_at: datetime) -> str:
    """`Saturday 28 November 2026, 14:30 UTC`: users have no time zone setting yet."""
    return dateformat.format(due_at.astimezone(UTC), "l j F Y, H:i") + " UTC"


def deadline_relative(due_at: datetime, now: datetime) -> str:
    # timesince joins number and unit with a no-break space, which mail clients mangle.
    if due_at > now:
        return "in " + timeuntil(due_at, now, depth=1).replace("\xa0", " ")
    return timesince(due_at, now, depth=1).replace("\xa0", " ") + " ago"


def _headline(notification: Notification, title: str, now: datetime) -> str:
    task = notification.task
    due = task.due_at if task is not None else None
    if notification.type == NotificationType.TASK_ASSIGNED:
        who = notification.actor.username if notification.actor else "Someone"
        return f'{who} assigned you "{title}"'
    if notification.type == NotificationType.DEADLINE_APPROACHING and due is not None:
        return f'"{title}" is due {deadline_relative(due, now)}'
    if notification.type == NotificationType.TASK_OVERDUE:
        return f'"{title}" is overdue'
    return notification.message


def email_content(notification: Notification, now: datetime | None = None) -> EmailContent:
    now = now or timezone.now()
    task = notification.task
    if task is None:  # the task was deleted after the notification was made
        return EmailContent(
            subject=notification.message[:200], text=notification.message + "\n", html=""
        )
    headline = _headline(notification, task.title, now)
    context: dict[str, Any] = {
        "recipient": notification.recipient.username,
        "headline": headline,
        "title": task.title,
        "team": task.team.name,
        "status": task.get_status_display(),
        "priority": task.get_priority_display(),
        "description": task.description,
        "deadline": deadline_text(task.due_at) if task.due_at else "no deadline",
        "deadline_relative": deadline_relative(task.due_at, now) if task.due_at else "",
        "actor": notification.actor.username if notification.actor else AUTOMATIC_ACTOR,
        "is_assignment": notification.type == NotificationType.TASK_ASSIGNED,
    }
    return EmailContent(
        subject=f"[{task.team.name}] {headline}"[:255],
        text=render_to_string("emails/notification.txt", context),
        html=render_to_string("emails/notification.html", context),
    )
