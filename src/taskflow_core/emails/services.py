"""Queueing notification emails: recorded with the notification, handed to Celery after commit."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils import timezone

from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.tasks import email_dispatch
from taskflow_core.notifications.models import EMAILED_TYPES, Notification


def email_queue(*, notification: Notification) -> EmailDelivery | None:
    """Inside the caller's transaction: record the email this notification deserves, if any.
    The job is queued only once the transaction commits; no request ever talks to SMTP."""
    recipient = notification.recipient
    if (
        notification.type not in EMAILED_TYPES
        or not recipient.email_notifications
        or not recipient.email
    ):
        return None
    delivery = EmailDelivery.objects.create(
        notification=notification, to=recipient.email, next_attempt_at=timezone.now()
    )
    transaction.on_commit(partial(email_dispatch, delivery.pk))
    return delivery
