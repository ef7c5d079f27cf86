"""The database connection is lost while an email is in SMTP: it is recorded as sent anyway,
so the requeue sweep never sends it a second time (docs/reliability.md)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.emails.services import email_queue
from taskflow_core.emails.tasks import email_requeue_stale
from tests.emails.background import Mailbox, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def terminate_idle_transactions() -> int:
    """pg_terminate_backend the sessions holding a transaction open (the worker, in SMTP)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state = 'idle in transaction'"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_an_email_sent_as_its_connection_dies_is_recorded_and_never_resent(
    mailbox: Mailbox,
) -> None:
    mailbox.hold = threading.Event()
    delivery = email_queue(to="kept@example.com", subject="Exactly once", text="Hello")
    assert delivery is not None
    wait_until(mailbox.holding.is_set, what="the worker to reach DATA")
    assert terminate_idle_transactions() == 1  # the worker's, holding the row lock
    mailbox.hold.set()

    wait_until(
        lambda: EmailDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT,
        what="the email to be recorded as sent",
    )
    assert email_requeue_stale(now=timezone.now() + timedelta(days=1)) == 0
    assert [mail.subject for mail in mailbox.messages_to("kept@example.com")] == ["Exactly once"]
