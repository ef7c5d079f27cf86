"""Redis bounded in bytes, never evicting: when it is full the writes still succeed, the outbox
keeps the events, and they go out in order once there is room (docs/events.md "Bounds")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.relay import OutboxRelay
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Team
from taskflow_local.embedded import EmbeddedRedis
from tests.events.conftest import stream_entries
from tests.realtime.conftest import Realtime, access_token
from tests.realtime.faults import OwnRedis, wait_until
from tests.support.processes import ServerProcess, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_the_embedded_redis_is_bounded_and_never_evicts(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", port=free_port()).start()
    try:
        with redis.Redis.from_url(server.url, decode_responses=True) as client:
            assert client.config_get("maxmemory") == {"maxmemory": str(256 * 1024 * 1024)}
            assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    finally:
        server.stop()


def test_a_full_redis_leaves_events_in_the_outbox_until_there_is_room(
    own_redis: OwnRedis,
    relay: ServerProcess,
    event_stream: str,
    start_realtime: Callable[..., Realtime],
    team: Team,
    alice: User,
    bob: User,
) -> None:
    realtime = start_realtime(REDIS_URL=own_redis.url)
    client = own_redis.client()
    try:
        with realtime.client() as socket:
            socket.auth(access_token(bob))
            client.config_set("maxmemory", "1")  # far below what Redis uses: it is full
            tasks = [task_create(team=team, actor=alice, title=f"while full {n}") for n in range(3)]
            assert client.xlen(event_stream) == 0
            # The relay keeps trying and keeps being refused; nothing is lost or marked.
            wait_until(lambda: "OOM" in relay.output(), 30, "the relay to be refused")
            assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 3
            assert realtime.health().status_code == 200  # reading still works

            client.config_set("maxmemory", str(256 * 1024 * 1024))
            frames = socket.events(3, timeout=60)
            assert [frame["data"]["task"]["id"] for frame in frames] == [t.pk for t in tasks]
            wait_until(
                lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(),
                30,
                "the relay to record the rows",
            )
    finally:
        client.close()


def test_a_full_redis_gives_up_the_oldest_history_to_make_room(
    own_redis: OwnRedis,
    event_stream: str,
    team: Team,
    alice: User,
) -> None:
    client = own_redis.client()
    try:
        task = task_create(team=team, actor=alice, title="v1")
        task_update(task_id=task.pk, actor=alice, data={"title": "v2"})
        assert client.xlen(event_stream) == 2
        client.config_set("maxmemory", "1")
        # Refused: the event stays in the outbox, and the oldest entries are trimmed so that
        # the next attempt can fit (ids from them now get `resync`).
        task_update(task_id=task.pk, actor=alice, data={"title": "v3"})
        assert client.xlen(event_stream) == 0
        assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 3

        client.config_set("maxmemory", str(256 * 1024 * 1024))
        OutboxRelay(poll_seconds=0.1, grace_seconds=0, retention_seconds=3600).publish_pending()
        [(_, fields)] = stream_entries(client, event_stream)
        assert '"title":"v3"' in fields["e"]
        assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
    finally:
        client.close()
