"""Redis coming back with less history than it had (restarted from an older snapshot, or
empty) is never a silent gap: connected sockets get `resync`, and so does a client that
reconnects with an id from the lost history, even one inside the window Redis restored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Team
from taskflow_events.keys import epoch_key
from tests.realtime.client import SocketClient
from tests.realtime.conftest import Realtime, access_token
from tests.realtime.faults import OwnRedis, wait_until
from tests.support.processes import ServerProcess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def update(task: Task, actor: User, version: int) -> None:
    task_update(task_id=task.pk, actor=actor, data={"title": f"v{version}"})


def versions_after_resync(socket: SocketClient, until: int) -> list[int]:
    """The socket must say `resync` first (once or twice: the realtime process and the relay
    each notice), then go on with live events up to version `until` of the task. Rows whose
    entries were lost before the relay recorded them are not published again: the `resync`
    covers them (docs/events.md "Epoch")."""
    first = socket.next(timeout=30)
    assert first == {"type": "resync"}, first
    versions: list[int] = []
    while not versions or versions[-1] < until:
        frame = socket.next(timeout=30)
        if frame != {"type": "resync"}:
            assert frame["event"] == "task.updated", frame
            versions.append(frame["data"]["task"]["version"])
    return versions


@pytest.mark.parametrize("restore", ["older snapshot", "empty"])
def test_lost_history_means_resync_for_connected_and_reconnecting_clients(
    restore: str,
    tmp_path: Path,
    own_redis: OwnRedis,
    relay: ServerProcess,
    event_stream: str,
    start_realtime: Callable[..., Realtime],
    team: Team,
    alice: User,
    bob: User,
) -> None:
    realtime = start_realtime(REDIS_URL=own_redis.url)
    with realtime.client() as connected:
        connected.auth(access_token(bob))
        task = task_create(team=team, actor=alice, title="v1")
        update(task, alice, 2)
        update(task, alice, 3)
        _created, v2, _v3 = connected.events(3)
        with own_redis.client() as client:  # the snapshot must hold the epoch
            wait_until(lambda: client.exists(epoch_key(event_stream)) == 1, 30, "the epoch")
        own_redis.snapshot(tmp_path / "older.rdb")
        for version in (4, 5, 6):
            update(task, alice, version)
        assert [frame["data"]["task"]["version"] for frame in connected.events(3)] == [4, 5, 6]

        own_redis.restart_from(tmp_path / "older.rdb" if restore == "older snapshot" else None)
        # v2's id is inside the restored window (v1..v3 came back), but v4..v6 are gone.
        with realtime.client() as reconnecting:
            reconnecting.auth(access_token(bob), last_event_id=v2["id"])
            assert reconnecting.next(timeout=30) == {"type": "resync"}
        # Rows committed before the relay starts the new epoch are covered by its `resync`
        # (docs/events.md "Epoch"); v7 comes after it, so it must arrive live.
        with own_redis.client() as client:
            wait_until(
                lambda: (
                    client.hget(epoch_key(event_stream), "run")
                    == str(client.info("server")["run_id"])
                ),
                30,
                "the new epoch",
            )
        update(task, alice, 7)
        versions = versions_after_resync(connected, until=7)
        assert versions == [7], versions  # v4..v6 are not repeated after the resync
        connected.expect_silence(1.0)

        # The new epoch holds: an id from after the loss replays normally again.
        update(task, alice, 8)
        [v8] = connected.events(1)
        update(task, alice, 9)
        [v9] = connected.events(1)
    with realtime.client() as reconnecting:
        reconnecting.auth(access_token(bob), last_event_id=v8["id"])
        [replayed] = reconnecting.events(1)
        assert replayed["id"] == v9["id"]
        reconnecting.expect_silence(1.0)
