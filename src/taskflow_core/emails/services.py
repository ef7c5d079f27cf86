"""Queueing email: a rendered message recorded in the caller's transaction, handed to Celery
after commit. Any app may queue mail here; the outbox never imports its callers."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.tasks import email_dispatch

logger = logging.getLogger(__name__)


def recipient_over_cap(*, to: str) -> bool:
    """Whether `to` has had `TASKFLOW_EMAIL_RECIPIENT_CAP` emails queued within the last
    `TASKFLOW_EMAIL_RECIPIENT_WINDOW_SECONDS` (docs/background.md, "Per-recipient cap").

    Counted under a per-address advisory lock held to the end of the caller's transaction, so
    concurrent requests cannot each see room for one more and together exceed the cap.
    """
    cap = settings.TASKFLOW_EMAIL_RECIPIENT_CAP
    if cap <= 0:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(lower(%s), 7))", [to])
    since = timezone.now() - timedelta(seconds=settings.TASKFLOW_EMAIL_RECIPIENT_WINDOW_SECONDS)
    return EmailDelivery.objects.filter(to=to, created_at__gte=since).count() >= cap


@transaction.atomic
def email_queue(
    *, to: str, subject: str, text: str, html: str = "", recipient: User | None = None
) -> EmailDelivery | None:
    """Inside the caller's transaction: record one email to send (to `recipient`'s address, when
    it is for an account). The job is queued only once the transaction commits, so no request
    ever talks to SMTP and a rolled-back write sends nothing.

    None, and nothing queued, when the address has reached its cap for the window: whatever
    the email was about stays where it was (a notification stays in the inbox).
    """
    if recipient_over_cap(to=to):
        logger.warning("email to %s not queued: over its per-recipient cap", to)
        return None
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
