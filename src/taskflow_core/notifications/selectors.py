"""Reads of the inbox: a user only ever sees their own notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification


def notification_list(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    """Newest first; `unread` True/False keeps only unread/read ones."""
    notifications = Notification.objects.filter(recipient=user).select_related("actor")
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications.order_by("-created_at", "-id")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get(*, user: User, notification_id: int) -> Notification | None:
    return (
        Notification.objects.filter(recipient=user, pk=notification_id)
        .select_related("actor")
        .first()
    )
