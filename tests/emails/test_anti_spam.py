"""The product cannot be used to spam: notification email goes only to verified addresses, and
no address gets more than the per-recipient cap of emails per window, however fast the
assignments come (docs/background.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Membership, Role, Team


@pytest.mark.django_db
def test_an_unverified_address_gets_no_notification_email(
    make_user: Callable[..., User], team: Team, alice: User
) -> None:
    victim = make_user("victim", email_verified_at=None)
    Membership.objects.create(team=team, user=victim, role=Role.MEMBER)

    task_create(team=team, actor=alice, title="Spam?", assignee=victim)

    assert Notification.objects.filter(recipient=victim).count() == 1  # the inbox still has it
    assert not EmailDelivery.objects.filter(to=victim.email).exists()


@pytest.mark.django_db
def test_a_flood_of_assignments_sends_at_most_the_cap(
    settings: Settings, api: Callable[[User | None], APIClient], team: Team, alice: User, bob: User
) -> None:
    settings.TASKFLOW_EMAIL_RECIPIENT_CAP = 3
    settings.TASKFLOW_EMAIL_RECIPIENT_WINDOW_SECONDS = 600
    task = task_create(team=team, actor=alice, title="Toggle")
    client = api(alice)

    for _ in range(10):  # assign, unassign, assign, ...: ten assignments in a second
        for assignee in (bob.pk, None):
            response = client.patch(f"/api/v1/tasks/{task.pk}/", {"assignee": assignee}, "json")
            assert response.status_code == 200

    assert EmailDelivery.objects.filter(to=bob.email).count() == 3
    assert Notification.objects.filter(recipient=bob, type="task_assigned").count() == 10
    # Another address has its own allowance.
    carol = User.objects.create_user(username="carol", email="carol@example.com")
    carol.email_verified_at = bob.email_verified_at
    carol.save()
    Membership.objects.create(team=team, user=carol, role=Role.MEMBER)
    task_update(task_id=task.pk, actor=alice, data={"assignee": carol})
    assert EmailDelivery.objects.filter(to=carol.email).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_cannot_together_exceed_the_cap(
    settings: Settings, make_user: Callable[..., User], team: Team, alice: User
) -> None:
    settings.TASKFLOW_EMAIL_RECIPIENT_CAP = 2
    target = make_user("target")
    Membership.objects.create(team=team, user=target, role=Role.MEMBER)
    tasks = [task_create(team=team, actor=alice, title=f"T{i}") for i in range(8)]
    barrier = threading.Barrier(len(tasks), timeout=60)
    errors: list[BaseException] = []

    def assign(task_id: int) -> None:
        try:
            barrier.wait()
            task_update(task_id=task_id, actor=alice, data={"assignee": target})
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(task.pk,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert EmailDelivery.objects.filter(to=target.email).count() == 2
