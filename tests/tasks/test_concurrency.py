"""Two people saving the same task at once: nothing is ever silently lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task

Api = Callable[[User | None], APIClient]


def patch_at_once(
    task: Task, requests: dict[str, tuple[APIClient, dict[str, Any], str | None]]
) -> dict[str, int]:
    """Fire every `name: (client, body, If-Match)` PATCH at the same moment; their statuses."""
    barrier = threading.Barrier(len(requests), timeout=60)
    statuses: dict[str, int] = {}
    errors: list[BaseException] = []

    def send(name: str) -> None:
        client, body, if_match = requests[name]
        headers = {} if if_match is None else {"If-Match": if_match}
        try:
            barrier.wait()
            response = client.patch(
                f"/api/v1/tasks/{task.pk}/", body, format="json", headers=headers
            )
            statuses[name] = response.status_code
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=send, args=(name,)) for name in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert not any(thread.is_alive() for thread in threads)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_at_the_same_version_one_200_one_412(
    api: Api, alice: User, bob: User, task: Task
) -> None:
    statuses = patch_at_once(
        task,
        {
            "alice": (api(alice), {"title": "alice was here"}, '"1"'),
            "bob": (api(bob), {"title": "bob was here"}, '"1"'),
        },
    )

    assert sorted(statuses.values()) == [200, 412]
    winner = next(name for name, code in statuses.items() if code == 200)
    task.refresh_from_db()
    assert task.version == 2
    assert task.title == f"{winner} was here"
    assert task.activity.filter(verb="updated").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_without_if_match_both_apply(
    api: Api, alice: User, bob: User, task: Task
) -> None:
    """The row lock serialises them: each change lands and each gets its own version."""
    statuses = patch_at_once(
        task,
        {
            "alice": (api(alice), {"priority": "urgent"}, None),
            "bob": (api(bob), {"status": "in_progress"}, None),
        },
    )

    assert statuses == {"alice": 200, "bob": 200}
    task.refresh_from_db()
    assert (task.priority, task.status, task.version) == ("urgent", "in_progress", 3)
    assert task.activity.filter(verb="updated").count() == 2
