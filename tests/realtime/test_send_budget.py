"""Each socket's send queue is bounded in bytes, not only in frames: 300 sockets that stop
reading under a flood of large events are closed (1013) once their budget is spent, well
before the frame limit or the keepalive would end them, and realtime memory stays within a
small figure per socket and comes back down once they are gone. A second wave of them after
the first has gone costs no more: what the first held is reused, not kept."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
import redis

from taskflow_core.accounts.models import User
from tests.realtime.client import SocketClient
from tests.realtime.conftest import Realtime, access_token
from tests.realtime.raw_socket import RawSocket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

MIB = 1024 * 1024
USERS, SOCKETS_EACH = 15, 20  # 300 sockets, each user at the default cap
EVENT_CHARS = 60_000  # a large event (they are capped at 64 KiB)


def big_event(number: int) -> str:
    padding = "x" * EVENT_CHARS
    return json.dumps({"event": "task.updated", "team": 0, "data": {"n": number, "p": padding}})


def stalled_wave(
    realtime: Realtime,
    stream_redis: redis.Redis,
    event_stream: str,
    tokens: list[str],
    recipients: str,
    reader: SocketClient,
    reader_id: int,
) -> tuple[int, int, int]:
    """Open the non-reading sockets, flood them until the server drops them all, check the
    close code and that the well-behaved reader is still served; (RSS before, RSS peak, RSS
    once they are gone)."""
    with contextlib.ExitStack() as stack:
        stalled: list[RawSocket] = []
        for token in tokens:
            for _ in range(SOCKETS_EACH):
                stalled.append(stack.enter_context(RawSocket(realtime.port, receive_buffer=4096)))
                stalled[-1].auth(token)
        realtime.wait_for_connections(len(stalled) + 1, timeout=60)
        rss_before = peak = realtime.process.rss_bytes()
        # The kernel takes the first ~3 MB of each socket (50 of these events); then the
        # transport's buffer fills, then the 512 KiB budget: ~60 events. The frame limit would
        # take 256 more, and the keepalive 40 s (and close with 1011, not 1013).
        sent = 0
        while realtime.health().json()["connections"] > 1 and sent < 150:
            stream_redis.xadd(event_stream, {"r": recipients, "e": big_event(sent)})
            sent += 1
            time.sleep(0.02)
            peak = max(peak, realtime.process.rss_bytes())
        realtime.wait_for_connections(1, timeout=20)
        stream_redis.xadd(event_stream, {"r": str(reader_id), "e": big_event(-1)})
        [frame] = reader.events(1)
        assert frame["data"]["n"] == -1
        # A stalled client that reads again finds what the kernel held, then the close: 1013.
        for client in stalled[::60]:
            assert client.close_code(timeout=30, max_frames=10_000) == 1013
    time.sleep(1.0)  # the server has reset them all (close deadline); let it settle
    return rss_before, peak, realtime.process.rss_bytes()


def test_non_reading_sockets_are_closed_within_their_byte_budget_and_memory_is_bounded(
    realtime: Realtime,
    event_stream: str,
    stream_redis: redis.Redis,
    django_user_model: type[User],
    alice: User,
) -> None:
    users = django_user_model.objects.bulk_create(
        django_user_model(username=f"stalled{n}", email=f"stalled{n}@example.com")
        for n in range(2 * USERS)
    )
    # Each wave has users of its own: a dropped socket keeps its place under the user's cap
    # until its connection ends (docs/events.md, "Bounds").
    waves = [users[:USERS], users[USERS:]]
    with realtime.client() as reader:
        reader.auth(access_token(alice))
        peaks = []
        for wave_users in waves:
            tokens = [access_token(user) for user in wave_users]
            recipients = ",".join(str(user.pk) for user in wave_users)
            peaks.append(
                stalled_wave(
                    realtime, stream_redis, event_stream, tokens, recipients, reader, alice.pk
                )
            )
        (before, first_peak, _), (_, second_peak, _) = peaks
        in_mib = [[round(rss / MIB, 1) for rss in wave] for wave in peaks]
        # Budget 512 KiB plus the transport's buffer: generously 1 MiB a socket.
        assert first_peak - before < USERS * SOCKETS_EACH * MIB, in_mib
        # Once they are gone, RSS comes back down (measured: below where it started; without
        # handing freed memory back, it stayed ~30 MB up).
        for start, peak, after in peaks:
            assert after - start < max(8 * MIB, 0.25 * (peak - start)), in_mib
    assert second_peak - first_peak < 0.25 * max(first_peak - before, 40 * MIB), (
        (first_peak - before) / MIB,
        (second_peak - first_peak) / MIB,
    )
