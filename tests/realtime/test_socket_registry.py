"""The socket registry (the per-user cap across processes) against a real Redis, and against an
address where nothing listens: a user full in Redis is then refused without asking again for a
second (unless one of their sockets here closes), and an unreachable Redis never keeps a
socket out nor holds one up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import redis
from django.conf import settings as django_settings
from redis.asyncio import Redis

from taskflow_realtime import socket_registry
from taskflow_realtime.socket_registry import Admission, SocketRegistry

T = TypeVar("T")

NOWHERE = "redis://127.0.0.1:9/0"  # the discard port: connection refused


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await scenario()

    return asyncio.run(main())


def test_a_full_user_is_refused_here_for_a_second_unless_one_of_their_sockets_closes(
    event_stream: str, stream_redis: redis.Redis
) -> None:
    async def scenario() -> list[object]:
        client = Redis.from_url(django_settings.REDIS_URL, decode_responses=True)
        registry = SocketRegistry(client, event_stream, max_per_user=2, heartbeat_seconds=10)
        seen: list[object] = []
        try:
            first, second, third = (registry.new_member() for _ in range(3))
            seen.append(registry.full_here(7, open_here=0))
            seen.append(await registry.admit(7, first, issued_at=0))
            seen.append(await registry.admit(7, second, issued_at=0))
            seen.append(registry.full_here(7, open_here=0))  # not asked yet: Redis decides
            seen.append(await registry.admit(7, third, issued_at=0))
            seen.append(registry.full_here(7, open_here=0))  # remembered: no round trip
            seen.append(registry.full_here(8, open_here=0))  # another user is not
            seen.append(registry.full_here(8, open_here=2))  # the cap open here alone
            await registry.release(7, first)  # a place freed here is seen at once
            seen.append(registry.full_here(7, open_here=0))
            seen.append(await registry.admit(7, third, issued_at=0))
        finally:
            await client.aclose()
        return seen

    assert run(scenario) == [
        False,
        Admission.OK,
        Admission.OK,
        False,
        Admission.FULL,
        True,
        False,
        True,
        False,
        Admission.OK,
    ]


def test_a_remembered_full_user_is_asked_about_again_after_the_memo_lapses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket_registry, "FULL_MEMO_SECONDS", 0.05)
    registry = SocketRegistry(Redis.from_url(NOWHERE), "s:{e}", max_per_user=2, heartbeat_seconds=1)
    registry._remember_full(7)
    assert registry.full_here(7, open_here=0)
    time.sleep(0.1)
    assert not registry.full_here(7, open_here=0)
    assert 7 not in registry._full_until  # and forgotten


def test_the_memo_of_full_users_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket_registry, "FULL_MEMO_SIZE", 2)
    registry = SocketRegistry(Redis.from_url(NOWHERE), "s:{e}", max_per_user=2, heartbeat_seconds=1)
    for user in (1, 2, 3):
        registry._remember_full(user)
    assert sorted(registry._full_until) == [1, 2]  # the third is asked about in Redis


def test_renewal_reaches_every_user_across_batches(
    event_stream: str, stream_redis: redis.Redis
) -> None:
    async def scenario() -> None:
        client = Redis.from_url(django_settings.REDIS_URL, decode_responses=True)
        registry = SocketRegistry(client, event_stream, max_per_user=2, heartbeat_seconds=10)
        try:
            await registry.renew([(user, [f"m{user}", "x"]) for user in range(501)])
        finally:
            await client.aclose()

    run(scenario)
    for user in (0, 499, 500):
        members = stream_redis.zrange(f"{event_stream}:sockets:{user}", 0, -1)
        assert sorted(members) == [f"m{user}", "x"]
        assert 0 < stream_redis.ttl(f"{event_stream}:sockets:{user}") <= 30


def test_an_unreachable_redis_admits_accepts_and_lets_go_without_raising() -> None:
    async def scenario() -> tuple[Admission, bool, float]:
        client = Redis.from_url(NOWHERE, socket_connect_timeout=0.5)
        registry = SocketRegistry(
            client, "s:{e}", max_per_user=1, heartbeat_seconds=0.05, timeout_seconds=1.0
        )
        began = time.monotonic()
        try:
            admitted = await registry.admit(7, registry.new_member(), issued_at=0)
            revoked = await registry.is_revoked(7, issued_at=0)
            await registry.release(7, "gone")
            renewing = asyncio.create_task(registry.keep_alive(lambda: [(7, ["a", "b"])]))
            await asyncio.sleep(0.3)  # several failed renewals: logged, and it keeps going
            assert not renewing.done()
            renewing.cancel()
        finally:
            await client.aclose()
        return admitted, revoked, time.monotonic() - began

    admitted, revoked, seconds = run(scenario)
    assert admitted is Admission.OK  # no event reaches it before Redis is back anyway
    assert revoked is False
    assert seconds < 10
