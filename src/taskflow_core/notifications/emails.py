"""A notification's email: whether it gets one, and what it says (subject, text and HTML).

The email is rendered when the notification is made and handed to the generic outbox
(`emails.services.email_queue`), which sends it exactly once after the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.services import email_queue
from taskflow_core.notifications.deadlines import deadline_relative, deadline_text
from taskflow_core.notifications.models import EMAILED_TYPES, Notification, NotificationType

AUTOMATIC_ACTOR = "TaskFlow Pro (automatic deadline reminder)"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


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


def notification_email_content(
    notification: Notification, now: datetime | None = None
) -> EmailContent:
    now = now or timezone.now()
    task = notification.task
    if task is None:  # a notification about no (or a deleted) task says just its message
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
        text=render_to_string("notifications/email.txt", context),
        html=render_to_string("notifications/email.html", context),
    )


def notification_email_queue(*, notification: Notification) -> EmailDelivery | None:
    """Inside the caller's transaction: queue the email this notification deserves, if any
    (its type is emailed, and the recipient has email on and an address)."""
    recipient = notification.recipient
    if (
        notification.type not in EMAILED_TYPES
        or not recipient.email_notifications
        or not recipient.email
    ):
        return None
    content = notification_email_content(notification)
    return email_queue(
        to=recipient.email,
        subject=content.subject,
        text=content.text,
        html=content.html,
        recipient=recipient,
    )
