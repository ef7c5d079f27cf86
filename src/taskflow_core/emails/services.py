"""Queueing an email: recorded in the caller's transaction, handed to Celery after commit."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils import timezone

from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.tasks import email_dispatch


def email_enqueue(*, to: str, subject: str, body_text: str, body_html: str = "") -> EmailDelivery:
    """Inside the caller's transaction: record an email to send. The job is queued only once
    the transaction commits, so a rolled-back decision sends nothing and no request ever
    talks to SMTP."""
    delivery = EmailDelivery.objects.create(
        to=to,
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(partial(email_dispatch, delivery.pk))
    return delivery
