"""Realtime integration fixtures: uvicorn processes on free ports, tokens, socket clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_django.fixtures import Settings
from rest_framework_simplejwt.tokens import AccessToken

from taskflow_core.accounts.models import User
from taskflow_deploy.commands import realtime_command, realtime_environment
from tests.events.conftest import event_stream, stream_redis
from tests.realtime.client import SocketClient
from tests.realtime.faults import OwnRedis, start_relay
from tests.support.processes import ServerProcess, free_port, service_env

__all__ = ["event_stream", "stream_redis"]


@dataclass
class Realtime:
    process: ServerProcess
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def health(self) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=10)

    def client(self) -> SocketClient:
        return SocketClient(self.ws_url)

    def wait_for_connections(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health().json()["connections"] == count:
                return
            time.sleep(0.05)
        raise AssertionError(f"expected {count} open connections, have {self.health().json()}")


def realtime_env(**extra: str) -> dict[str, str]:
    """The test environment minus every signing secret: realtime gets the public key only."""
    return realtime_environment(service_env(**extra))


@pytest.fixture
def start_realtime(event_stream: str) -> Iterator[Callable[..., Realtime]]:
    started: list[ServerProcess] = []

    def start(uvicorn_log_level: str | None = "warning", **extra_env: str) -> Realtime:
        port = free_port()
        env = realtime_env(TASKFLOW_EVENT_STREAM=event_stream, **extra_env)
        args = realtime_command(port)
        if uvicorn_log_level is not None:
            args = [*args, "--log-level", uvicorn_log_level]
        process = ServerProcess(args, env=env, port=port)
        started.append(process.start())
        return Realtime(process=process, port=port)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def realtime(start_realtime: Callable[..., Realtime]) -> Realtime:
    return start_realtime()


def access_token(user: User, lifetime: timedelta | None = None, **claims: Any) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    for name, value in claims.items():
        token[name] = value
    return str(token)


@pytest.fixture
def token_for() -> Callable[..., str]:
    return access_token


def assert_unique_ids(frames: list[dict[str, Any]]) -> None:
    ids = [frame["id"] for frame in frames]
    assert len(ids) == len(set(ids)), ids


def stream_id_key(frame: dict[str, Any]) -> tuple[int, int]:
    ms, seq = frame["id"].split("-")
    return int(ms), int(seq)


@pytest.fixture
def own_redis(tmp_path: Path, settings: Settings) -> Iterator[OwnRedis]:
    """A Redis of the test's own (to stop, fill or restore), used by core in this process."""
    server = OwnRedis(tmp_path / "redis").start()
    settings.REDIS_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def relay(own_redis: OwnRedis, event_stream: str) -> Iterator[ServerProcess]:
    process = start_relay(own_redis.url, event_stream)
    yield process
    process.stop()
