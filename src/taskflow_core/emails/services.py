"""Queueing email: a rendered message recorded in the caller's transaction, handed to Celery
after commit. Any app may queue mail here; the outbox never imports its callers."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.tasks import email_dispatch


def email_queue(
    *, to: str, subject: str, text: str, html: str = "", recipient: User | None = None
) -> EmailDelivery:
    """Inside the caller's transaction: record one email to send (to `recipient`'s address, when
    it is for an account). The job is queued only once the transaction commits, so no request
    ever talks to SMTP and a rolled-back write sends nothing."""
    delivery = EmailDelivery.objects.create(
        to=to,
        recipient=recipient,
        subject=subject[:255],
        body_text=text,
        body_html=html,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(partial(email_dispatch, delivery.pk))
    return delivery
