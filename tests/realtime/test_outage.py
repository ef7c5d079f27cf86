"""Redis down while tasks are written: every write succeeds, every event arrives afterwards."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from taskflow_local.embedded import EmbeddedRedis
from tests.realtime.conftest import Realtime, access_token, assert_unique_ids
from tests.support.processes import ServerProcess, free_port, service_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.integration,
]


def test_events_written_during_a_redis_outage_arrive_when_it_is_back(
    settings: Settings,
    tmp_path: Path,
    event_stream: str,
    start_realtime: Callable[..., Realtime],
    team: Team,
    alice: User,
    bob: User,
) -> None:
    redis_server = EmbeddedRedis(tmp_path / "redis", port=free_port()).start()
    relay: ServerProcess | None = None
    try:
        settings.REDIS_URL = redis_server.url
        realtime = start_realtime(REDIS_URL=redis_server.url)
        relay = ServerProcess(
            [sys.executable, "manage.py", "relay_outbox"],
            env=service_env(
                REDIS_URL=redis_server.url,
                TASKFLOW_EVENT_STREAM=event_stream,
                TASKFLOW_RELAY_POLL_MS="200",
                TASKFLOW_RELAY_GRACE_MS="500",
            ),
        ).start()
        with realtime.client() as socket:
            socket.auth(access_token(bob))
            redis_server.stop()
            tasks = [task_create(team=team, actor=alice, title=f"outage {n}") for n in range(20)]
            assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 20
            assert realtime.health().status_code == 503

            redis_server.start()
            try:
                # Redis came back empty: whatever it held is gone, so the socket is told first.
                assert socket.next(timeout=60) == {"type": "resync"}
                frames = socket.events(20, timeout=90)
            except TimeoutError:
                pytest.fail(f"events did not arrive; relay log:\n{relay.output()}")
            assert [frame["data"]["task"]["id"] for frame in frames] == [t.pk for t in tasks]
            assert_unique_ids(frames)
            socket.expect_silence(1.0)
        assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
        assert realtime.health().status_code == 200
    finally:
        if relay is not None:
            relay.stop()
        redis_server.stop()
