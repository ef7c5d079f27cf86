"""After a Redis outage a task's events arrive in version order: the backlog the relay
publishes is never overtaken by a newer update that the after-commit hook could publish at
once (docs/events.md "Ordering")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.common.redis_guard import redis_guard
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Team
from tests.realtime.conftest import Realtime, access_token
from tests.realtime.faults import OwnRedis
from tests.support.processes import ServerProcess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_a_task_s_events_keep_their_order_across_an_outage(
    own_redis: OwnRedis,
    relay: ServerProcess,
    start_realtime: Callable[..., Realtime],
    team: Team,
    alice: User,
    bob: User,
) -> None:
    realtime = start_realtime(REDIS_URL=own_redis.url)
    with realtime.client() as socket:
        socket.auth(access_token(bob))
        own_redis.stop()
        task = task_create(team=team, actor=alice, title="v1")
        for version in (2, 3, 4):
            task_update(task_id=task.pk, actor=alice, data={"title": f"v{version}"})
        assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 4

        own_redis.start()
        # The request right after Redis is back does try Redis (no failure to remember).
        redis_guard.reset()
        task_update(task_id=task.pk, actor=alice, data={"title": "v5"})

        frames: list[dict[str, Any]] = []
        while len(frames) < 5:
            frame = socket.next(timeout=60)
            if frame != {"type": "resync"}:  # Redis came back empty: the socket is told
                frames.append(frame)
        assert [(f["event"], f["data"]["task"]["version"]) for f in frames] == [
            ("task.created", 1),
            ("task.updated", 2),
            ("task.updated", 3),
            ("task.updated", 4),
            ("task.updated", 5),
        ]
        socket.expect_silence(1.0)
