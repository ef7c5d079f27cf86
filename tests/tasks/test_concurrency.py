"""Two people saving the same version at once: one wins, the other is told (never lost)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task

Api = Callable[[User | None], APIClient]


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_at_the_same_version_one_200_one_412(
    api: Api, alice: User, bob: User, task: Task
) -> None:
    clients = {"alice": api(alice), "bob": api(bob)}
    barrier = threading.Barrier(len(clients), timeout=60)
    statuses: dict[str, int] = {}
    errors: list[BaseException] = []

    def save(name: str) -> None:
        try:
            barrier.wait()
            response = clients[name].patch(
                f"/api/v1/tasks/{task.pk}/",
                {"title": f"{name} was here"},
                format="json",
                headers={"If-Match": '"1"'},
            )
            statuses[name] = response.status_code
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=save, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    assert sorted(statuses.values()) == [200, 412]
    winner = next(name for name, code in statuses.items() if code == 200)
    task.refresh_from_db()
    assert task.version == 2
    assert task.title == f"{winner} was here"
    assert task.activity.filter(verb="updated").count() == 1
