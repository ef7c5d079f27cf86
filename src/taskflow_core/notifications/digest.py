"""Read-aware, batched notification email: one digest per recipient per window, exactly once.

A notification that wants an email gets `email_due_at` (its creation plus the recipient's
delay). The digest job, run by beat every `TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS`, finds the
recipients with a waiting (unread, not yet emailed) notification whose time has come, and for
each one puts *all* of that recipient's waiting notifications into one email. docs/background.md
explains the guarantees.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.services import email_queue
from taskflow_core.notifications.email_content import digest_content
from taskflow_core.notifications.models import Notification
from taskflow_core.notifications.preferences import email_wanted

logger = logging.getLogger(__name__)

# Recipients handled per query of the scan; each gets a transaction of their own.
SCAN_BATCH = 500


def _waiting(recipient: User) -> list[Notification]:
    return list(
        Notification.objects.select_for_update(of=("self",))
        .filter(recipient=recipient, email_due_at__isnull=False, read_at__isnull=True)
        .select_related("actor", "task__team")
        .order_by("created_at", "pk")
    )


@transaction.atomic
def email_digest_create(*, recipient_id: int, now: datetime) -> EmailDelivery | None:
    """If the recipient's oldest waiting notification is due, queue one email for every one
    that is waiting, and mark them emailed in the same transaction."""
    # One digest at a time per recipient. NO KEY UPDATE leaves new notifications free to be
    # inserted meanwhile (their foreign key only takes KEY SHARE); SKIP LOCKED leaves a
    # recipient whom another scan is busy with to that scan.
    recipient = (
        User.objects.select_for_update(no_key=True, skip_locked=True)
        .filter(pk=recipient_id)
        .first()
    )
    if recipient is None:
        return None
    # Locking the rows makes a concurrent "mark as read" wait for this transaction, or this
    # query wait for it: a notification read before the digest commits is never in it.
    waiting = _waiting(recipient)
    if not waiting or min(n.email_due_at for n in waiting if n.email_due_at) > now:
        return None
    # Preferences are read again now: turning a type off stops the emails still waiting too.
    wanted = [n for n in waiting if email_wanted(user=recipient, type=n.type)]
    delivery = None
    if wanted:
        content = digest_content(recipient=recipient, notifications=wanted, now=now)
        delivery = email_queue(
            to=recipient.email,
            subject=content.subject,
            text=content.text,
            html=content.html,
            recipient=recipient,
        )
        Notification.objects.filter(pk__in=[n.pk for n in wanted]).update(
            email_due_at=None, email=delivery
        )
    emailed = {n.pk for n in wanted}
    unwanted = [n.pk for n in waiting if n.pk not in emailed]
    if unwanted:
        Notification.objects.filter(pk__in=unwanted).update(email_due_at=None)
    return delivery


def email_digest_scan(*, now: datetime | None = None) -> int:
    """Queue the digests that are due; returns how many emails were queued."""
    now = now or timezone.now()
    queued = 0
    done: set[int] = set()
    while True:
        due = (
            Notification.objects.filter(email_due_at__lte=now, read_at__isnull=True)
            .exclude(recipient_id__in=done)
            .order_by()
            .values_list("recipient_id", flat=True)
            .distinct()[:SCAN_BATCH]
        )
        recipients = list(due)
        for recipient_id in recipients:
            if email_digest_create(recipient_id=recipient_id, now=now) is not None:
                queued += 1
        done.update(recipients)
        if len(recipients) < SCAN_BATCH:
            break
    if queued:
        logger.info("email digest queued %s emails", queued)
    return queued
