"""One attempt at sending one email, under a row lock so it can never go out twice."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils import timezone

from taskflow_core.emails.models import DeliveryStatus, EmailDelivery

logger = logging.getLogger(__name__)

# A duplicate job may arrive before the retry it duplicates is due; it must not jump the queue.
EARLY_TOLERANCE = timedelta(seconds=1)


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # already sent/failed, not due yet, gone, or being sent elsewhere


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    retry_at: datetime | None = None


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: between half and all of base * 2**(attempts-1), capped."""
    ceiling = min(
        settings.TASKFLOW_EMAIL_BACKOFF_MAX_SECONDS,
        settings.TASKFLOW_EMAIL_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0),
    )
    # Jitter spreads the retries of many emails that failed together (an SMTP outage).
    return float(secrets.SystemRandom().uniform(ceiling / 2, ceiling))


def _send(delivery: EmailDelivery) -> None:
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.to],
    )
    if delivery.body_html:
        message.attach_alternative(delivery.body_html, "text/html")
    message.send(fail_silently=False)


class _SentButUnrecorded(Exception):
    """SMTP accepted the email, then the database connection was lost before it was marked."""


# Recording a sent email after a lost connection: this many tries, this far apart.
RECORD_SENT_TRIES = 10
RECORD_SENT_PAUSE_SECONDS = 0.5


def _record_sent_after_lost_connection(delivery_id: int, attempts: int) -> None:
    """The email went out but the transaction that held its row died with the connection
    (PostgreSQL restarted, the connection terminated). Marking it sent on a new connection
    keeps it from going out a second time; only a database away for longer than these tries
    leaves it pending, and then it is sent again (logged: the one window in which an email can
    go out twice, docs/reliability.md)."""
    for _ in range(RECORD_SENT_TRIES):
        close_old_connections()
        try:
            EmailDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.SENT, sent_at=timezone.now(), attempts=attempts
            )
        except (OperationalError, InterfaceError):
            connection.close()
            time.sleep(RECORD_SENT_PAUSE_SECONDS)
            continue
        logger.warning(
            "email %s sent; recorded after the database connection was lost", delivery_id
        )
        return
    logger.error("email %s was sent but could not be recorded: it may be sent again", delivery_id)


def email_attempt(*, delivery_id: int) -> AttemptResult:
    """Send the email if it is still pending and due; record the outcome on its row."""
    try:
        return _attempt(delivery_id)
    except _SentButUnrecorded as lost:
        _record_sent_after_lost_connection(delivery_id, lost.args[0])
        return AttemptResult(Outcome.SENT)


def _attempt(delivery_id: int) -> AttemptResult:
    with transaction.atomic():
        # The lock is held across the SMTP exchange: a second worker skips the row instead of
        # sending in parallel, and only sees it again once it is marked sent (or failed).
        delivery = (
            EmailDelivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        )
        now = timezone.now()
        if (
            delivery is None
            or delivery.status != DeliveryStatus.PENDING
            or delivery.next_attempt_at > now + EARLY_TOLERANCE
        ):
            return AttemptResult(Outcome.SKIPPED)

        delivery.attempts += 1
        try:
            _send(delivery)
        except Exception as error:  # any SMTP or socket error is worth a retry
            delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            if delivery.attempts >= settings.TASKFLOW_EMAIL_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
                delivery.save()
                logger.error(
                    "email %s to %s failed after %s attempts: %s",
                    delivery.pk,
                    delivery.to,
                    delivery.attempts,
                    delivery.last_error,
                )
                return AttemptResult(Outcome.FAILED)
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
            delivery.save()
            logger.warning(
                "email %s attempt %s failed (%s); retrying at %s",
                delivery.pk,
                delivery.attempts,
                delivery.last_error,
                delivery.next_attempt_at.isoformat(),
            )
            return AttemptResult(Outcome.RETRY, retry_at=delivery.next_attempt_at)

        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        try:
            delivery.save()
        except (OperationalError, InterfaceError) as error:
            raise _SentButUnrecorded(delivery.attempts) from error
        logger.info("email %s sent to %s (attempt %s)", delivery.pk, delivery.to, delivery.attempts)
        return AttemptResult(Outcome.SENT)
