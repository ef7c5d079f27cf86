"""Celery jobs for email (routed to the `email` queue) and handing deliveries to them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from celery import Task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from taskflow_core.common.handoff import handoff
from taskflow_core.config.celery_app import app
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.emails.sending import email_attempt

logger = logging.getLogger(__name__)

REQUEUE_BATCH = 500


@app.task(bind=True, name="taskflow_core.emails.tasks.email_deliver_task", max_retries=None)
def email_deliver_task(self: Task[[int], None], delivery_id: int) -> None:
    """One attempt; the row (not Celery) counts attempts, so limits survive lost jobs."""
    result = email_attempt(delivery_id=delivery_id)
    if result.retry_at is not None:
        raise self.retry(eta=result.retry_at)


def email_dispatch(delivery_id: int) -> None:
    """Hand one delivery to the worker. On the request path this waits on the broker no
    longer than the request's Redis budget (common/handoff.py); a broker outage is logged, not
    raised: the row stays pending and the requeue sweep queues it later."""
    handoff.call(f"queueing email {delivery_id}", lambda: email_deliver_task.delay(delivery_id))


def email_requeue_stale(*, now: datetime | None = None) -> int:
    """Queue again pending emails whose job was lost (broker outage, purged queue). A duplicate
    job is harmless: the row lock and status make the second one a no-op."""
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


@app.task(name="taskflow_core.emails.tasks.email_requeue_stale_task")
def email_requeue_stale_task() -> int:
    return email_requeue_stale()
