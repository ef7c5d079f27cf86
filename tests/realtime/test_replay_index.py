"""A replay reads the user's own index, not the whole window: its cost is proportional to what
the user is owed (docs/events.md "Layout"), and an index trimmed past the client's id means
`resync`, never a hole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.utils import timezone
from pytest_django.fixtures import Settings

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.relay import OutboxRelay
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Membership, Role, Team
from tests.events.conftest import last_stream_id
from tests.realtime.conftest import Realtime, access_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def publish_for_others(user: User, count: int) -> None:
    """`count` events for `user` alone, through the real publisher (the relay's batches)."""
    team = Team.objects.create(name=f"{user.username}'s")
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    task_create(team=team, actor=user, title="theirs")
    template = OutboxEvent.objects.order_by("-id").first()
    assert template is not None
    OutboxEvent.objects.bulk_create(
        OutboxEvent(
            name=template.name,
            team_id=template.team_id,
            actor=template.actor,
            data=template.data,
            recipients=[user.pk],
            occurred_at=timezone.now(),
        )
        for _ in range(count)
    )
    relay = OutboxRelay(poll_seconds=0.1, grace_seconds=0, retention_seconds=3600)
    while relay.publish_pending():
        pass


def replay_stats(realtime: Realtime) -> dict[str, Any]:
    stats: dict[str, Any] = realtime.health().json()["replay"]
    return stats


def test_a_replay_reads_only_the_user_s_entries_of_a_large_window(
    event_stream: str,
    stream_redis: redis.Redis,
    start_realtime: Callable[..., Realtime],
    team: Team,
    alice: User,
    bob: User,
    mallory: User,
) -> None:
    task = task_create(team=team, actor=alice, title="v1")
    seen = last_stream_id(stream_redis, event_stream)
    for version in (2, 3, 4):
        publish_for_others(mallory, 500)
        task_update(task_id=task.pk, actor=alice, data={"title": f"v{version}"})
    publish_for_others(mallory, 500)
    assert stream_redis.xlen(event_stream) > 2000

    # Pages of two ids: Bob's three events take two pages.
    realtime = start_realtime(TASKFLOW_REPLAY_PAGE_SIZE="2")
    with realtime.client() as socket:
        socket.auth(access_token(bob), last_event_id=seen)
        replayed = socket.events(3)
        assert [frame["data"]["task"]["title"] for frame in replayed] == ["v2", "v3", "v4"]
        socket.expect_silence(1.0)
    # Three index entries and the three stream entries they point to; not the 2,000 others.
    assert replay_stats(realtime) == {"replays": 1, "resyncs": 0, "entries_read": 6}


def test_an_index_trimmed_past_the_client_s_id_means_resync(
    settings: Settings,
    event_stream: str,
    stream_redis: redis.Redis,
    start_realtime: Callable[..., Realtime],
    team: Team,
    alice: User,
    bob: User,
) -> None:
    settings.TASKFLOW_EVENT_USER_INDEX_MAXLEN = 3
    realtime = start_realtime()
    task = task_create(team=team, actor=alice, title="v1")
    ids = [last_stream_id(stream_redis, event_stream)]
    for version in range(2, 6):
        task_update(task_id=task.pk, actor=alice, data={"title": f"v{version}"})
        ids.append(last_stream_id(stream_redis, event_stream))
    # Bob's index keeps v3..v5 only; the stream itself still has everything.
    assert stream_redis.xlen(event_stream) == 5

    for too_old in (ids[0], ids[1]):  # v1 and v2 are no longer in Bob's index: no replay
        with realtime.client() as socket:
            socket.auth(access_token(bob), last_event_id=too_old)
            assert socket.next() == {"type": "resync"}
            socket.expect_silence(0.5)
    with realtime.client() as socket:
        socket.auth(access_token(bob), last_event_id=ids[2])
        assert [frame["id"] for frame in socket.events(2)] == ids[3:]
        socket.expect_silence(0.5)
    assert replay_stats(realtime)["resyncs"] == 2
