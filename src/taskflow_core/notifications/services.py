"""Every write to the inbox: a new notification (with its event), marking read, the email
preferences."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.events.services import event_emit
from taskflow_core.notifications.models import Notification
from taskflow_core.notifications.preferences import email_due_at
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
    """Persist an inbox entry about task `task_id` of team `team_id` and emit
    `notification.created` to its recipient only. When the recipient wants this type by
    email, the entry waits for the digest job (notifications/digest.py) until its
    `email_due_at`; reading it before then cancels the email.

    The task comes as ids: notifications sit below tasks and never import them."""
    notification = Notification.objects.create(
        recipient=recipient,
        type=type,
        task_id=task_id,
        actor=actor,
        message=message[:500],
        email_due_at=email_due_at(user=recipient, type=type, now=timezone.now()),
    )
    event_emit(
        name="notification.created",
        team_id=team_id,
        actor=actor,
        data={"notification": notification_payload(notification)},
        recipients=[recipient.pk],
    )
    return notification


def notification_mark_read(*, notification: Notification) -> Notification:
    # An UPDATE guarded by `read_at IS NULL`: it waits for a digest that holds the row, then
    # either finds it still unread (and the email, already committed, went out) or not.
    if notification.read_at is None:
        now = timezone.now()
        updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        if updated:
            notification.read_at = now
        else:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_emails_cancel(*, recipient_id: int, team_id: int) -> int:
    """The recipient's notifications about the team's tasks stop waiting for their email: they
    left the team, and nothing more from it reaches them."""
    return Notification.objects.filter(
        recipient_id=recipient_id, task__team_id=team_id, email_due_at__isnull=False
    ).update(email_due_at=None)


def notification_mark_all_read(*, user: User) -> int:
    unread: QuerySet[Notification] = Notification.objects.filter(
        recipient=user, read_at__isnull=True
    )
    return unread.update(read_at=timezone.now())


@transaction.atomic
def notification_preferences_update(
    *,
    user: User,
    email_notifications: bool | None = None,
    email_types: dict[str, bool] | None = None,
    email_delay_minutes: int | None = None,
) -> User:
    """Change what is given; `email_types` is merged into the user's earlier choices. Takes
    effect for notifications already waiting too: the digest reads the preferences again."""
    user = User.objects.select_for_update().get(pk=user.pk)
    fields: list[str] = []
    if email_notifications is not None:
        user.email_notifications = email_notifications
        fields.append("email_notifications")
    if email_types:
        user.email_types = {**(user.email_types or {}), **email_types}
        fields.append("email_types")
    if email_delay_minutes is not None:
        user.email_delay_minutes = email_delay_minutes
        fields.append("email_delay_minutes")
    if fields:
        user.save(update_fields=fields)
    return user
