"""The digest's rules, in-process with a controlled clock: when a notification's email is due,
what one email holds, and that reading, preferences and concurrent scans are respected."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from pytest_django import Settings

from taskflow_core.accounts.models import User
from taskflow_core.comments.services import comment_create
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.notifications.digest import email_digest_scan
from taskflow_core.notifications.models import Notification
from taskflow_core.notifications.services import (
    notification_mark_read,
    notification_preferences_update,
)
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create, task_team_member_remove, task_update
from taskflow_core.teams.models import Team

LATER = timedelta(minutes=6)  # past the default 5-minute delay


@pytest.fixture
def tasks(team: Team, alice: User, bob: User) -> list[Task]:
    """Three assignments to Bob: three notifications that want an email."""
    return [task_create(team=team, actor=alice, title=f"Task {n}", assignee=bob) for n in range(3)]


@pytest.mark.django_db
def test_a_notification_waits_the_recipients_delay(
    settings: Settings, team: Team, alice: User, bob: User
) -> None:
    settings.TASKFLOW_EMAIL_DELAY_UNIT_SECONDS = 60
    before = timezone.now()
    task_create(team=team, actor=alice, title="Ship", assignee=bob)
    waiting = Notification.objects.get(recipient=bob)

    assert waiting.email_due_at is not None
    assert (
        before + timedelta(minutes=5)
        <= waiting.email_due_at
        <= timezone.now() + timedelta(minutes=5)
    )
    assert email_digest_scan(now=timezone.now()) == 0
    assert EmailDelivery.objects.count() == 0


@pytest.mark.django_db
def test_types_off_by_default_and_email_off_never_wait(team: Team, alice: User, bob: User) -> None:
    task = task_create(team=team, actor=alice, title="Hers", assignee=alice)
    task_update(task_id=task.pk, actor=bob, data={"status": "in_progress"})  # alice: status
    notification_preferences_update(user=bob, email_notifications=False)
    task_create(team=team, actor=alice, title="Quiet", assignee=bob)

    assert [n.email_due_at for n in Notification.objects.all()] == [None, None]


@pytest.mark.django_db
def test_one_email_holds_every_waiting_notification(tasks: list[Task], bob: User) -> None:
    assert email_digest_scan(now=timezone.now() + LATER) == 1
    assert email_digest_scan(now=timezone.now() + LATER) == 0

    delivery = EmailDelivery.objects.get()
    assert (delivery.to, delivery.recipient) == ("bob@example.com", bob)
    assert delivery.subject.startswith("[Platform] 3 notifications: ")
    for task in tasks:
        assert f"#{task.pk} {task.title}" in delivery.body_text
    assert set(Notification.objects.values_list("email", "email_due_at")) == {(delivery.pk, None)}


@pytest.mark.django_db
def test_a_notification_read_in_time_is_not_emailed(tasks: list[Task], bob: User) -> None:
    first = Notification.objects.filter(recipient=bob).order_by("id").first()
    assert first is not None
    notification_mark_read(notification=first)

    email_digest_scan(now=timezone.now() + LATER)

    delivery = EmailDelivery.objects.get()
    assert delivery.subject.startswith("[Platform] 2 notifications: ")
    assert f"#{tasks[0].pk} " not in delivery.body_text
    first.refresh_from_db()
    assert first.email is None


@pytest.mark.django_db
def test_everything_read_in_time_means_no_email(tasks: list[Task], bob: User) -> None:
    for notification in Notification.objects.filter(recipient=bob):
        notification_mark_read(notification=notification)
    assert email_digest_scan(now=timezone.now() + LATER) == 0
    assert EmailDelivery.objects.count() == 0


@pytest.mark.django_db
def test_a_later_notification_rides_along_with_an_earlier_one_that_is_due(
    settings: Settings, team: Team, alice: User, bob: User
) -> None:
    task_create(team=team, actor=alice, title="Early", assignee=bob)
    Notification.objects.update(email_due_at=timezone.now() - timedelta(seconds=1))
    task_create(team=team, actor=alice, title="Just now", assignee=bob)  # due in 5 minutes

    assert email_digest_scan(now=timezone.now()) == 1
    assert EmailDelivery.objects.get().subject.startswith("[Platform] 2 notifications: ")


@pytest.mark.django_db
def test_turning_a_type_off_stops_the_emails_already_waiting(
    team: Team, alice: User, bob: User
) -> None:
    task = task_create(team=team, actor=alice, title="Ship", assignee=bob)
    notification_preferences_update(user=bob, email_types={"task_assigned": False})
    task_create(team=team, actor=alice, title="Also", assignee=bob)

    assert email_digest_scan(now=timezone.now() + LATER) == 0
    assert EmailDelivery.objects.count() == 0
    assert Notification.objects.get(task=task).email_due_at is None  # no longer waiting


@pytest.mark.django_db
def test_a_member_who_leaves_gets_no_email_about_the_team(
    team: Team, alice: User, bob: User, tasks: list[Task]
) -> None:
    task_team_member_remove(team=team, actor=bob, user_id=bob.pk)

    assert email_digest_scan(now=timezone.now() + LATER) == 0
    assert EmailDelivery.objects.count() == 0
    assert Notification.objects.filter(recipient=bob).count() == 3  # the inbox keeps them


@pytest.mark.django_db
def test_a_recipient_who_chose_comments_gets_them(
    team: Team, alice: User, bob: User, tasks: list[Task]
) -> None:
    Notification.objects.all().delete()
    notification_preferences_update(user=alice, email_types={"task_commented": True})
    comment_create(task_id=tasks[0].pk, author=bob, body="done?")

    email_digest_scan(now=timezone.now() + LATER)

    delivery = EmailDelivery.objects.get()
    assert delivery.to == "alice@example.com"
    assert delivery.subject == '[Platform] bob commented on "Task 0"'


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_send_one_email(tasks: list[Task], bob: User) -> None:
    later = timezone.now() + LATER
    start = threading.Barrier(3)
    queued: list[int] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            start.wait(timeout=30)
            queued.append(email_digest_scan(now=later))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(queued) == [0, 0, 1]
    assert EmailDelivery.objects.count() == 1
    assert mail.outbox == []  # queued for the worker, not sent in-process
