"""A Redis of the test's own (so it can be stopped, snapshotted, restarted empty or from an
older snapshot) and the outbox relay pointed at it."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

from taskflow_local.embedded import EmbeddedRedis
from tests.support.processes import ServerProcess, free_port, service_env


class OwnRedis:
    """redis-server in `workdir`; `snapshot()` saves a dump to restart from later."""

    def __init__(self, workdir: Path) -> None:
        self.server = EmbeddedRedis(workdir, port=free_port())
        self.workdir = workdir

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)

    def start(self) -> OwnRedis:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def snapshot(self, to: Path) -> None:
        with self.client() as client:
            client.save()
        shutil.copy(self.workdir / "dump.rdb", to)

    def restart_from(self, dump: Path | None) -> None:
        """Stop; start again from `dump` (an older snapshot), or empty when None."""
        self.stop()
        (self.workdir / "dump.rdb").unlink(missing_ok=True)
        if dump is not None:
            shutil.copy(dump, self.workdir / "dump.rdb")
        self.start()


def start_relay(redis_url: str, event_stream: str, **extra: str) -> ServerProcess:
    env = service_env(
        REDIS_URL=redis_url,
        TASKFLOW_EVENT_STREAM=event_stream,
        TASKFLOW_RELAY_POLL_MS="200",
        TASKFLOW_RELAY_GRACE_MS="500",
        **extra,
    )
    return ServerProcess([sys.executable, "manage.py", "relay_outbox"], env=env).start()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
