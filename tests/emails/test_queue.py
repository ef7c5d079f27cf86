"""The mail outbox's own functions, called in this process: nothing queued on rollback, a sent
email never sent again, retries and their backoff, lost jobs queued again. Sending goes to
Django's in-memory mail backend here; the path through a real Celery worker to a real SMTP
server (after commit, once, with retries) is tests/emails/test_delivery_integration.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.sending import Outcome, backoff_seconds, email_attempt
from taskflow_core.emails.services import email_queue
from taskflow_core.emails.tasks import email_requeue_stale

pytestmark = pytest.mark.django_db


def enqueue(subject: str = "Hello") -> EmailDelivery:
    delivery = email_queue(
        to="bob@example.com", subject=subject, text="Plain body", html="<p>HTML</p>"
    )
    assert delivery is not None  # far below the per-recipient cap
    return delivery


def test_a_rolled_back_email_is_never_queued(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                enqueue()
                raise RuntimeError("the decision to email is rolled back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert EmailDelivery.objects.count() == 0


def test_deleting_an_account_deletes_its_unsent_email(alice: User) -> None:
    email_queue(to=alice.email, subject="Bye", text="text", recipient=alice)
    assert EmailDelivery.objects.filter(to=alice.email).count() == 1
    alice.delete()
    assert EmailDelivery.objects.filter(to=alice.email).count() == 0


def test_a_sent_email_is_never_sent_again() -> None:
    delivery = enqueue()

    assert email_attempt(delivery_id=delivery.pk).outcome == Outcome.SENT
    assert email_attempt(delivery_id=delivery.pk).outcome == Outcome.SKIPPED
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_duplicate_job_does_not_jump_ahead_of_a_scheduled_retry() -> None:
    delivery = enqueue()
    EmailDelivery.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert email_attempt(delivery_id=delivery.pk).outcome == Outcome.SKIPPED
    assert mail.outbox == []


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings: Settings) -> None:
    settings.TASKFLOW_EMAIL_BACKOFF_SECONDS = 10
    settings.TASKFLOW_EMAIL_BACKOFF_MAX_SECONDS = 60
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        waits = {backoff_seconds(attempts) for _ in range(20)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(waits) > 1  # jittered


def test_pending_emails_whose_job_was_lost_are_queued_again(settings: Settings) -> None:
    settings.TASKFLOW_EMAIL_REQUEUE_AFTER_SECONDS = 300
    enqueue()
    now = timezone.now()
    EmailDelivery.objects.update(next_attempt_at=now - timedelta(minutes=2))
    assert email_requeue_stale(now=now) == 0  # not late enough to be lost

    EmailDelivery.objects.update(next_attempt_at=now - timedelta(minutes=10))
    assert email_requeue_stale(now=now) == 1
    assert EmailDelivery.objects.get().next_attempt_at == now
