"""The request path's Redis bound (docs/reliability.md): a budget per request, a breaker, a
hand-off that never holds the request, and a cache that fails open."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache.backends.base import BaseCache
from pytest_django.fixtures import Settings

from taskflow_core.common.cache import BoundedRedisCache
from taskflow_core.common.handoff import HandOff
from taskflow_core.common.redis_guard import RedisGuard, redis_guard
from tests.reliability.harness import DrillRedis
from tests.support.processes import free_port


def test_a_request_starts_redis_operations_only_while_its_budget_allows(
    settings: Settings,
) -> None:
    settings.TASKFLOW_REQUEST_REDIS_BUDGET_MS = 50
    now = [100.0]
    guard = RedisGuard(clock=lambda: now[0])
    assert guard.op_timeout == pytest.approx(0.025)
    with guard.request():
        for spent in (0.010, 0.014):  # 24 ms waited: 26 ms left, one more 25 ms op fits
            assert guard.permits()
            with guard.waiting():
                now[0] += spent
        assert guard.permits()
        with guard.waiting():
            now[0] += 0.002
        assert not guard.permits()  # 26 ms spent: another op could take the total past 50 ms
    with guard.request():
        assert guard.permits()  # every request has its own budget


def test_after_a_failure_every_request_skips_redis_until_the_breaker_closes(
    settings: Settings,
) -> None:
    now = [100.0]
    guard = RedisGuard(clock=lambda: now[0])
    guard.failed("a test", TimeoutError())
    with guard.request():
        assert not guard.permits()
    now[0] += settings.TASKFLOW_REQUEST_REDIS_SUSPEND_MS / 1000
    with guard.request():
        assert guard.permits()


def test_a_stuck_hand_off_holds_the_request_no_longer_than_the_guard_allows(
    settings: Settings,
) -> None:
    settings.TASKFLOW_REQUEST_REDIS_BUDGET_MS = 50
    release = threading.Event()
    done: list[int] = []
    handoff = HandOff(guard=RedisGuard(), threads=2)

    def stuck(n: int) -> None:
        release.wait(30)
        done.append(n)

    try:
        for n in (1, 2):  # two requests, each waiting its 25 ms, then going on
            with handoff.guard.request():
                started = time.monotonic()
                assert not handoff.call(f"call {n}", lambda n=n: stuck(n))  # type: ignore[misc]
                assert 0.02 < time.monotonic() - started < 0.5
                assert not handoff.guard.permits()  # that wait used this request's budget
        with handoff.guard.request():
            started = time.monotonic()
            assert not handoff.call("call 3", lambda: stuck(3))  # every thread held: not made
            assert time.monotonic() - started < 0.02
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while len(done) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(done) == [1, 2]  # the ones handed off finished in the background


def test_outside_a_request_the_hand_off_runs_in_place() -> None:
    ran: list[str] = []
    assert HandOff(guard=RedisGuard()).call("a job", lambda: ran.append("yes"))
    assert ran == ["yes"]


@pytest.fixture
def frozen_redis(tmp_path: Path) -> Iterator[DrillRedis]:
    server = DrillRedis(tmp_path / "redis", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def cache_at(url: str) -> BaseCache:
    return BoundedRedisCache(url, {})


@pytest.mark.parametrize("state", ["refusing", "frozen"])
def test_the_cache_fails_open_within_the_bound(
    state: str,
    settings: Settings,
    frozen_redis: DrillRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.TASKFLOW_REQUEST_REDIS_BUDGET_MS = 50
    cache = cache_at(
        frozen_redis.url if state == "frozen" else f"redis://127.0.0.1:{free_port()}/0"
    )
    cache.set("warm", 1)  # a pooled connection, as in a running process
    redis_guard.reset()
    if state == "frozen":
        frozen_redis.freeze()
    try:
        with caplog.at_level(logging.WARNING), redis_guard.request():
            started = time.monotonic()
            assert cache.get("throttle-history", []) == []  # an empty history: let it through
            cache.set("throttle-history", [1.0], 60)
            assert cache.add("lock", 1) is False
            elapsed = time.monotonic() - started
    finally:
        frozen_redis.thaw()
    assert elapsed < 0.5, elapsed  # one 25 ms timeout, then the breaker; 0.5 s: a loaded machine
    assert "cache" in caplog.text


def test_with_redis_answering_the_cache_is_an_ordinary_cache(frozen_redis: DrillRedis) -> None:
    cache = cache_at(frozen_redis.url)
    with redis_guard.request():
        assert cache.add("counter", 1, timeout=60) is True
        assert cache.add("counter", 5) is False
        assert cache.incr("counter", 2) == 3
        cache.set("name", "alice", timeout=60)
        assert cache.get_many(["counter", "name", "absent"]) == {"counter": 3, "name": "alice"}
        assert cache.has_key("name") is True
        assert cache.touch("name", timeout=120) is True
        assert cache.delete("name") is True
        assert cache.has_key("name") is False
        assert cache.touch("name") is False
