"""Emails leave through a real Celery worker to a real SMTP server, after commit, with retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.emails.services import email_queue
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from tests.emails.background import Mailbox, wait_for_log, wait_until
from tests.support.processes import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def delivery_for(user: User) -> EmailDelivery | None:
    return EmailDelivery.objects.filter(to=user.email).first()


def wait_for_status(user: User, status: str) -> EmailDelivery:
    def reached() -> EmailDelivery | None:
        delivery = delivery_for(user)
        return delivery if delivery is not None and delivery.status == status else None

    result: EmailDelivery = wait_until(reached, what=f"{user.email} email {status}")
    return result


def test_assigning_a_task_emails_the_assignee_once(
    mailbox: Mailbox, team: Team, alice: User, bob: User
) -> None:
    due_at = (timezone.now() + timedelta(days=3)).replace(hour=14, minute=30, second=0)
    task = task_create(
        team=team, actor=alice, title="Ship the release notes", assignee=bob, due_at=due_at
    )

    wait_for_status(bob, DeliveryStatus.SENT)
    assert len(mailbox.received) == 1
    mail = mailbox.received[0]
    assert mail.recipients == ["bob@example.com"]
    assert mail.subject == '[Platform] alice assigned you "Ship the release notes"'
    deadline = due_at.strftime("%A %-d %B %Y, 14:30 UTC")
    for body in (mail.body("plain"), mail.body("html")):
        assert task.title in body
        assert "Platform" in body
        assert "alice" in body
        assert deadline in body
    delivery = delivery_for(bob)
    assert delivery is not None
    assert delivery.attempts == 1
    assert delivery.subject == mail.subject


def test_an_email_leaves_only_after_its_transaction_commits(mailbox: Mailbox) -> None:
    with transaction.atomic():
        queued = email_queue(
            to="dana@example.com",
            subject="Write the changelog",
            text="Plain body",
            html="<p>HTML</p>",
        )
        assert queued is not None
        # Long enough for the email to have arrived, had anything sent it before the commit.
        time.sleep(1.0)
        assert mailbox.received == []

    def sent() -> EmailDelivery | None:
        delivery = EmailDelivery.objects.get(pk=queued.pk)
        return delivery if delivery.status == DeliveryStatus.SENT else None

    delivery: EmailDelivery = wait_until(sent, what="the committed email sent")
    [mail] = mailbox.received
    assert (mail.recipients, mail.subject) == (["dana@example.com"], "Write the changelog")
    assert mail.body("plain").strip() == "Plain body"
    assert mail.body("html").strip() == "<p>HTML</p>"
    assert delivery.attempts == 1
    assert delivery.sent_at is not None


def test_no_email_when_the_assignee_turned_email_off(
    mailbox: Mailbox, team: Team, alice: User, bob: User, carol: User
) -> None:
    bob.email_notifications = False
    bob.save(update_fields=["email_notifications"])
    task_create(team=team, actor=alice, title="Quiet task", assignee=bob)
    task_create(team=team, actor=alice, title="Barrier task", assignee=carol)

    wait_for_status(carol, DeliveryStatus.SENT)
    assert [mail.recipients for mail in mailbox.received] == [["carol@example.com"]]
    assert delivery_for(bob) is None


def test_an_email_refused_twice_arrives_on_the_third_attempt(
    mailbox: Mailbox, team: Team, alice: User, bob: User
) -> None:
    mailbox.refuse_next = 2
    task_create(team=team, actor=alice, title="Persistent task", assignee=bob)

    delivery = wait_for_status(bob, DeliveryStatus.SENT)
    assert mailbox.refused == 2
    assert len(mailbox.received) == 1
    assert mailbox.received[0].recipients == ["bob@example.com"]
    assert delivery.attempts == 3
    assert "451" in delivery.last_error


def test_an_email_refused_every_time_is_recorded_as_failed_while_the_api_answers(
    mailbox: Mailbox,
    worker: ServerProcess,
    team: Team,
    alice: User,
    bob: User,
    api: Callable[[User | None], APIClient],
) -> None:
    mailbox.refuse_all = True
    mailbox.hold = threading.Event()
    task_create(team=team, actor=alice, title="Doomed email", assignee=bob)
    wait_until(mailbox.holding.is_set, what="the worker to reach DATA")

    # The worker is stuck in an SMTP exchange; the API does not notice.
    client = api(alice)
    assert client.get("/api/v1/health/").status_code == 200
    created = client.post("/api/v1/tasks/", {"team": team.pk, "title": "Meanwhile"}, format="json")
    assert created.status_code == 201, created.content
    assert delivery_for(bob).status == DeliveryStatus.PENDING  # type: ignore[union-attr]

    mailbox.hold.set()
    delivery = wait_for_status(bob, DeliveryStatus.FAILED)
    assert delivery.attempts == 3
    assert delivery.last_error.startswith("SMTPDataError")
    assert "451" in delivery.last_error
    assert mailbox.refused == 3
    assert mailbox.received == []
    wait_for_log(worker, f"email {delivery.pk} to bob@example.com failed after 3 attempts")
