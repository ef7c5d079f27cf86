"""The product cannot be used to spam: notification email goes only to verified addresses, a
flood of notifications becomes one digest, and no address gets more than the per-recipient
cap of emails per window, whatever queues them (docs/background.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.emails.services import email_queue
from taskflow_core.notifications.digest import email_digest_scan
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team

LATER = timedelta(days=1)  # past every recipient's email delay


@pytest.mark.django_db
def test_an_unverified_address_gets_no_notification_email(
    make_user: Callable[..., User], team: Team, alice: User
) -> None:
    victim = make_user("victim", email_verified_at=None)
    Membership.objects.create(team=team, user=victim, role=Role.MEMBER)

    task_create(team=team, actor=alice, title="Spam?", assignee=victim)
    email_digest_scan(now=timezone.now() + LATER)

    assert Notification.objects.filter(recipient=victim).count() == 1  # the inbox still has it
    assert not EmailDelivery.objects.filter(to=victim.email).exists()


@pytest.mark.django_db
def test_a_flood_of_assignment_toggles_sends_one_email(
    api: Callable[[User | None], APIClient], team: Team, alice: User, bob: User
) -> None:
    task = task_create(team=team, actor=alice, title="Toggle")
    client = api(alice)

    for _ in range(10):  # assign, unassign, assign, ...: ten assignments in a second
        for assignee in (bob.pk, None):
            response = client.patch(f"/api/v1/tasks/{task.pk}/", {"assignee": assignee}, "json")
            assert response.status_code == 200
    email_digest_scan(now=timezone.now() + LATER)

    assert Notification.objects.filter(recipient=bob, type="task_assigned").count() == 10
    assert EmailDelivery.objects.filter(to=bob.email).count() == 1


@pytest.mark.django_db
def test_no_address_gets_more_than_the_cap_per_window(settings: Settings) -> None:
    settings.TASKFLOW_EMAIL_RECIPIENT_CAP = 3
    settings.TASKFLOW_EMAIL_RECIPIENT_WINDOW_SECONDS = 600

    queued = [email_queue(to="victim@example.com", subject=f"#{n}", text="x") for n in range(10)]

    assert [delivery is not None for delivery in queued] == [True] * 3 + [False] * 7
    assert EmailDelivery.objects.filter(to="victim@example.com").count() == 3
    # Another address has its own allowance; an old email no longer counts.
    assert email_queue(to="other@example.com", subject="hi", text="x") is not None
    EmailDelivery.objects.filter(to="victim@example.com").update(
        created_at=timezone.now() - timedelta(seconds=601)
    )
    assert email_queue(to="victim@example.com", subject="later", text="x") is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_cannot_together_exceed_the_cap(settings: Settings) -> None:
    settings.TASKFLOW_EMAIL_RECIPIENT_CAP = 2
    senders = 8
    barrier = threading.Barrier(senders, timeout=60)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                email_queue(to="target@example.com", subject=f"#{n}", text="x")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert EmailDelivery.objects.filter(to="target@example.com").count() == 2
