"""Two scans at the same moment against the same database raise each alert once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification
from taskflow_core.reminders.models import DeadlineAlert
from taskflow_core.reminders.services import deadline_scan
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_scans_create_no_duplicate_alert(team: Team, alice: User) -> None:
    now = timezone.now()
    tasks = [
        task_create(team=team, actor=alice, title=f"T{i}", due_at=now + timedelta(minutes=i - 60))
        for i in range(120)  # half overdue, half approaching
    ]
    start = threading.Barrier(3)
    raised: list[int] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            start.wait(timeout=30)
            raised.append(len(deadline_scan()))
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
    # Whichever scan inserts first claims every row; the others wait on its uncommitted claims
    # and then insert nothing.
    assert sorted(raised) == [0, 0, len(tasks)]
    assert DeadlineAlert.objects.count() == len(tasks)
    assert Notification.objects.count() == len(tasks)
    assert set(Notification.objects.values_list("task", flat=True)) == {t.pk for t in tasks}
