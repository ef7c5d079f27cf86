"""Read-aware digest email through the real beat, worker and SMTP server: an email waits the
recipient's delay, is cancelled by reading, gathers what is unread into one message, and obeys
the per-type preferences. A delay "minute" lasts one second here
(`TASKFLOW_EMAIL_DELAY_UNIT_SECONDS`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_django import Settings
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from tests.emails.background import Mailbox, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Api = Callable[[User | None], APIClient]
# Long enough for a loaded machine to make three notifications and read one inside it.
DELAY_MINUTES = 6


@pytest.fixture(autouse=True)
def one_second_minutes(settings: Settings, bob: User, carol: User) -> None:
    settings.TASKFLOW_EMAIL_DELAY_UNIT_SECONDS = 1
    User.objects.filter(pk__in=[bob.pk, carol.pk]).update(email_delay_minutes=DELAY_MINUTES)


def barrier(mailbox: Mailbox, team: Team, alice: User, carol: User) -> None:
    """Carol's email, queued after everything before it and due later, has arrived: every
    digest due before hers has been looked for by then."""
    task_create(team=team, actor=alice, title="Barrier", assignee=carol)
    wait_until(lambda: mailbox.messages_to(carol.email), what="carol's email")


def test_a_notification_read_within_the_delay_is_never_emailed(
    mailbox: Mailbox, api: Api, team: Team, alice: User, bob: User, carol: User
) -> None:
    task_create(team=team, actor=alice, title="Read in time", assignee=bob)
    notification = Notification.objects.get(recipient=bob)
    response = api(bob).post(f"/api/v1/notifications/{notification.pk}/read/")
    assert response.status_code == 200

    barrier(mailbox, team, alice, carol)
    assert mailbox.messages_to(bob.email) == []
    assert not EmailDelivery.objects.filter(to=bob.email).exists()


def test_three_unread_notifications_arrive_as_one_email(
    mailbox: Mailbox, team: Team, alice: User, bob: User, carol: User
) -> None:
    tasks: list[Task] = [
        task_create(team=team, actor=alice, title=title, assignee=bob)
        for title in ("Renew certificate", "Rotate keys", "Update DNS")
    ]

    [mail] = wait_until(lambda: mailbox.messages_to(bob.email), what="bob's digest")
    barrier(mailbox, team, alice, carol)

    assert len(mailbox.messages_to(bob.email)) == 1
    assert (
        mail.subject
        == '[Platform] 3 notifications: alice assigned you "Renew certificate", and 2 more'
    )
    for body in (mail.body("plain"), mail.body("html")):
        for task in tasks:
            assert f"#{task.pk} {task.title}" in body
    delivery = EmailDelivery.objects.get(to=bob.email)
    assert delivery.status == DeliveryStatus.SENT
    assert set(Notification.objects.filter(recipient=bob).values_list("email", flat=True)) == {
        delivery.pk
    }


def test_a_type_turned_off_is_not_emailed(
    mailbox: Mailbox, api: Api, team: Team, alice: User, bob: User, carol: User
) -> None:
    response = api(bob).patch(
        "/api/v1/users/me/preferences/", {"email_types": {"task_assigned": False}}, format="json"
    )
    assert response.status_code == 200
    task_create(team=team, actor=alice, title="Quietly assigned", assignee=bob)

    barrier(mailbox, team, alice, carol)
    assert mailbox.messages_to(bob.email) == []
    assert not EmailDelivery.objects.filter(to=bob.email).exists()
    assert Notification.objects.filter(recipient=bob, read_at__isnull=True).count() == 1
