"""A task's events reach the stream in version order, whoever publishes them: the after-commit
hook publishes one only right after its predecessor; otherwise the relay does, in outbox order."""

from __future__ import annotations

import json

import pytest
import redis

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.relay import OutboxRelay
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create, task_delete, task_update
from taskflow_core.teams.models import Team
from taskflow_events.keys import task_version_key
from tests.events.conftest import stream_entries

pytestmark = pytest.mark.django_db(transaction=True)


def task_versions(client: redis.Redis, stream: str) -> list[tuple[str, int | None]]:
    """(event name, task version) of every task event in the stream, in stream order."""
    events = [json.loads(fields["e"]) for _, fields in stream_entries(client, stream)]
    return [
        (event["event"], event["data"]["task"].get("version"))
        for event in events
        if event["event"].startswith("task.")
    ]


def relay_pass() -> int:
    return OutboxRelay(poll_seconds=0.1, grace_seconds=0, retention_seconds=3600).publish_pending()


def test_the_hook_publishes_a_task_s_events_in_order_while_nothing_is_missing(
    event_stream: str, stream_redis: redis.Redis, team: Team, alice: User
) -> None:
    task = task_create(team=team, actor=alice, title="v1")
    task_update(task_id=task.pk, actor=alice, data={"title": "v2"})
    task_delete(task=Task.objects.get(pk=task.pk), actor=alice)
    assert task_versions(stream_redis, event_stream) == [
        ("task.created", 1),
        ("task.updated", 2),
        ("task.deleted", 2),
    ]
    assert stream_redis.get(task_version_key(event_stream, task.pk)) == "2"


def test_an_update_whose_predecessor_is_not_in_the_stream_waits_for_the_relay(
    event_stream: str, stream_redis: redis.Redis, team: Team, alice: User
) -> None:
    task = task_create(team=team, actor=alice, title="v1")
    # As if Redis had lost the task's version (expired, or Redis restarted empty).
    stream_redis.delete(task_version_key(event_stream, task.pk))
    task_update(task_id=task.pk, actor=alice, data={"title": "v2"})
    task_update(task_id=task.pk, actor=alice, data={"title": "v3"})
    assert task_versions(stream_redis, event_stream) == [("task.created", 1)]
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 3

    assert relay_pass() == 3  # records v1, publishes v2 then v3
    assert task_versions(stream_redis, event_stream) == [
        ("task.created", 1),
        ("task.updated", 2),
        ("task.updated", 3),
    ]
    # From here on the hook publishes directly again.
    task_update(task_id=task.pk, actor=alice, data={"title": "v4"})
    assert task_versions(stream_redis, event_stream)[-1] == ("task.updated", 4)


def test_a_new_task_is_never_overtaken_by_its_updates(
    event_stream: str, stream_redis: redis.Redis, team: Team, alice: User
) -> None:
    task = task_create(team=team, actor=alice, title="v1")
    # The create never reached Redis (as in an outage that has just ended).
    stream_redis.delete(event_stream)
    for key in stream_redis.scan_iter(match=f"{event_stream}:*"):
        stream_redis.delete(key)
    task_update(task_id=task.pk, actor=alice, data={"title": "v2"})
    assert task_versions(stream_redis, event_stream) == []
    relay_pass()
    assert task_versions(stream_redis, event_stream) == [("task.created", 1), ("task.updated", 2)]


def test_other_events_are_published_at_once_whatever_the_task_s_state(
    event_stream: str, stream_redis: redis.Redis, team: Team, alice: User, bob: User
) -> None:
    task = task_create(team=team, actor=alice, title="v1")
    stream_redis.delete(task_version_key(event_stream, task.pk))
    task_update(task_id=task.pk, actor=alice, data={"assignee": bob})
    names = [
        json.loads(fields["e"])["event"] for _, fields in stream_entries(stream_redis, event_stream)
    ]
    assert names == ["task.created", "notification.created"]  # the update waits, not the rest
