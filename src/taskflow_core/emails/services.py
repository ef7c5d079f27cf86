"""Queueing notification emails: recorded with the notification, handed to Celery after commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from taskflow_core.config.celery_app import app
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.notifications.models import EMAILED_TYPES, Notification

logger = logging.getLogger(__name__)

DELIVER_TASK = "taskflow_core.emails.tasks.email_deliver_task"
REQUEUE_BATCH = 500


def email_dispatch(delivery_id: int) -> None:
    """Hand one delivery to the worker. A broker outage is logged, not raised: the row stays
    pending and the requeue sweep sends it later, so a request never waits on email."""
    try:
        app.send_task(DELIVER_TASK, args=[delivery_id])
    except Exception:
        logger.exception("could not queue email %s; the requeue sweep will retry", delivery_id)


def email_queue(*, notification: Notification) -> EmailDelivery | None:
    """Inside the caller's transaction: record the email this notification deserves, if any."""
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


def email_requeue_stale(*, now: datetime | None = None) -> int:
    """Queue again pending emails whose job was lost (broker outage, purged queue)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TASKFLOW_EMAIL_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        stale = list(
            EmailDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=cutoff)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:REQUEUE_BATCH]
        )
        EmailDelivery.objects.filter(pk__in=stale).update(next_attempt_at=now)
        for delivery_id in stale:
            transaction.on_commit(partial(email_dispatch, delivery_id))
    if stale:
        logger.warning("requeued %s pending emails whose job was lost", len(stale))
    return len(stale)
