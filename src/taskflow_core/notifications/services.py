from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.emails.services import email_queue
from taskflow_core.events.services import event_emit
from taskflow_core.notifications.models import Notification
from taskflow_core.notifications.serializers import notification_payload
from taskflow_core.tasks.models import Task


@transaction.atomic
def notification_create(
    *, recipient: User, type: str, task: Task | None, actor: User | None, message: str
) -> Notification:
    """Persist an inbox entry, emit `notification.created` to its recipient only, and queue
    its email (sent by the worker after commit) when the type and the recipient want one."""
    notification = Notification.objects.create(
        recipient=recipient, type=type, task=task, actor=actor, message=message[:500]
    )
    event_emit(
        name="notification.created",
        team_id=task.team_id if task is not None else None,
        actor=actor,
        data={"notification": notification_payload(notification)},
        recipients=[recipient.pk],
    )
    email_queue(notification=notification)
    return notification


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user: User) -> int:
    unread: QuerySet[Notification] = Notification.objects.filter(
        recipient=user, read_at__isnull=True
    )
    return unread.update(read_at=timezone.now())
