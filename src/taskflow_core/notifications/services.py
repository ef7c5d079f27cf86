"""Every write to the inbox: a new notification (with its event and email), marking read."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.events.services import event_emit
from taskflow_core.notifications.emails import notification_email_queue
from taskflow_core.notifications.models import Notification
from taskflow_core.notifications.serializers import notification_payload


@transaction.atomic
def notification_create(
    *,
    recipient: User,
    type: str,
    task_id: int | None,
    team_id: int | None,
    actor: User | None,
    message: str,
) -> Notification:
    """Persist an inbox entry about task `task_id` of team `team_id`, emit
    `notification.created` to its recipient only, and queue its email (sent by the worker after
    commit) when the type and the recipient want one.

    The task comes as ids: notifications sit below tasks and never import them."""
    notification = Notification(
        recipient=recipient, type=type, task_id=task_id, actor=actor, message=message[:500]
    )
    notification.email = notification_email_queue(notification=notification)
    notification.save()
    event_emit(
        name="notification.created",
        team_id=team_id,
        actor=actor,
        data={"notification": notification_payload(notification)},
        recipients=[recipient.pk],
    )
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
