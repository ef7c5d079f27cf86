"""Which notifications get an email, and that it leaves only after commit, exactly once.
Unit tests: Celery in eager mode, Django's in-memory mail backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from taskflow_core.accounts.models import User
from taskflow_core.config.celery_app import app
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.emails.sending import Outcome, backoff_seconds, email_attempt
from taskflow_core.emails.tasks import email_requeue_stale
from taskflow_core.tasks.models import Status
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_the_email_is_sent_only_after_the_assignment_commits(
    eager: None,
    team: Team,
    alice: User,
    bob: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        task_create(team=team, actor=alice, title="Write the changelog", assignee=bob)
    assert mail.outbox == []
    delivery = EmailDelivery.objects.get()
    assert (delivery.to, delivery.status, delivery.attempts) == (
        "bob@example.com",
        DeliveryStatus.PENDING,
        0,
    )

    for callback in callbacks:
        callback()

    assert [message.to for message in mail.outbox] == [["bob@example.com"]]
    assert mail.outbox[0].subject == '[Platform] alice assigned you "Write the changelog"'
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert delivery.sent_at is not None


def test_no_email_for_a_recipient_who_turned_email_off(team: Team, alice: User, bob: User) -> None:
    bob.email_notifications = False
    bob.save()
    task_create(team=team, actor=alice, title="Quiet", assignee=bob)
    assert EmailDelivery.objects.count() == 0


def test_deleting_an_account_deletes_its_unsent_email(team: Team, alice: User, bob: User) -> None:
    task_create(team=team, actor=alice, title="Never mind", assignee=bob)
    assert EmailDelivery.objects.filter(to=bob.email).count() == 1
    bob.delete()
    assert EmailDelivery.objects.filter(to=bob.email).count() == 0


def test_status_changes_are_not_emailed(team: Team, alice: User, bob: User) -> None:
    task = task_create(team=team, actor=bob, title="Mine", assignee=bob)
    task_update(task_id=task.pk, actor=bob, data={"status": Status.IN_PROGRESS})
    assert EmailDelivery.objects.count() == 0  # bob assigned himself; alice is not involved


def test_a_sent_email_is_never_sent_again(team: Team, alice: User, bob: User) -> None:
    task_create(team=team, actor=alice, title="Once", assignee=bob)
    delivery = EmailDelivery.objects.get()

    assert email_attempt(delivery_id=delivery.pk).outcome == Outcome.SENT
    assert email_attempt(delivery_id=delivery.pk).outcome == Outcome.SKIPPED
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_duplicate_job_does_not_jump_ahead_of_a_scheduled_retry(
    team: Team, alice: User, bob: User
) -> None:
    task_create(team=team, actor=alice, title="Later", assignee=bob)
    EmailDelivery.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    delivery = EmailDelivery.objects.get()

    assert email_attempt(delivery_id=delivery.pk).outcome == Outcome.SKIPPED
    assert mail.outbox == []


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings: Settings) -> None:
    settings.TASKFLOW_EMAIL_BACKOFF_SECONDS = 10
    settings.TASKFLOW_EMAIL_BACKOFF_MAX_SECONDS = 60
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        waits = {backoff_seconds(attempts) for _ in range(20)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(waits) > 1  # jittered


def test_pending_emails_whose_job_was_lost_are_queued_again(
    settings: Settings, team: Team, alice: User, bob: User
) -> None:
    settings.TASKFLOW_EMAIL_REQUEUE_AFTER_SECONDS = 300
    task_create(team=team, actor=alice, title="Lost", assignee=bob)
    now = timezone.now()
    EmailDelivery.objects.update(next_attempt_at=now - timedelta(minutes=2))
    assert email_requeue_stale(now=now) == 0  # not late enough to be lost

    EmailDelivery.objects.update(next_attempt_at=now - timedelta(minutes=10))
    assert email_requeue_stale(now=now) == 1
    assert EmailDelivery.objects.get().next_attempt_at == now
