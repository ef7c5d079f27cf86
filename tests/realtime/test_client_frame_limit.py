"""Client frames are capped at 4 KiB before they are read (close 1009): an unauthenticated
client cannot make the realtime process buffer a 16 MiB "auth" frame, nor stall /health."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from taskflow_core.accounts.models import User
from tests.realtime.conftest import Realtime, access_token
from tests.realtime.raw_socket import RawSocket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

BIG = 16 * 1024 * 1024  # uvicorn's default frame limit, where the cap used to be
MIB = 1024 * 1024


def test_a_frame_over_4_kib_is_refused_with_1009_before_it_is_read(realtime: Realtime) -> None:
    rss_before = realtime.process.rss_bytes()
    with RawSocket(realtime.port) as client:
        client.send_frame_header(BIG)
        client.send_payload(64 * 1024)
        # The server answers from the header alone; a server that reads the whole frame would
        # still be waiting for the rest here.
        code = client.close_code(timeout=5)
        if code is None:  # no answer: send the rest, to show what the server does with it
            client.send_payload(BIG - 64 * 1024)
            code = client.close_code(timeout=30)
    assert code == 1009
    assert realtime.process.rss_bytes() - rss_before < 8 * MIB


def test_a_frame_of_exactly_4_kib_still_gets_an_answer(realtime: Realtime, alice: User) -> None:
    """The cap is on size, not on content: a 4 KiB frame is read (and, not being JSON, refused
    with 4400); a valid auth frame well under it opens the socket."""
    with RawSocket(realtime.port) as client:
        client.send_text("x" * 4096)
        assert client.close_code(timeout=20) == 4400
    with realtime.client() as socket:
        assert socket.auth(access_token(alice))["user"] == alice.pk


def test_forty_sockets_sending_16_mib_frames_neither_grow_memory_nor_stall_health(
    start_realtime: Callable[..., Realtime],
) -> None:
    realtime = start_realtime()
    realtime.health()  # warm up
    rss_before = realtime.process.rss_bytes()
    peak = rss_before
    health_seconds: list[float] = []
    statuses: list[int] = []
    failures: list[str] = []
    watching = threading.Event()
    done = threading.Event()

    def watch_health() -> None:
        nonlocal peak
        with httpx.Client(timeout=30) as http:
            # At least one answer after the attack (and no endless retry of a failing one).
            while not (done.is_set() and statuses) and len(failures) < 5:
                began = time.monotonic()
                try:
                    response = http.get(f"http://127.0.0.1:{realtime.port}/health")
                except httpx.HTTPError as error:
                    failures.append(repr(error))
                    continue
                statuses.append(response.status_code)
                health_seconds.append(time.monotonic() - began)
                peak = max(peak, realtime.process.rss_bytes())
                watching.set()
                time.sleep(0.05)

    codes: list[int | None] = []

    def attack() -> None:
        with RawSocket(realtime.port) as client:
            client.send_frame_header(BIG)
            client.send_payload(BIG)
            codes.append(client.close_code(timeout=20))

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    assert watching.wait(timeout=30)
    try:
        attackers = [threading.Thread(target=attack) for _ in range(40)]
        for thread in attackers:
            thread.start()
        for thread in attackers:
            thread.join(timeout=120)
    finally:
        done.set()
        watcher.join(timeout=60)
    assert not failures, failures[:3]
    assert statuses
    assert set(statuses) == {200}
    assert max(health_seconds) < 2.0, max(health_seconds)
    # 40 frames of 16 MiB read whole would be 640 MiB; refused from their headers, nothing.
    assert peak - rss_before < 40 * MIB, (peak - rss_before) / MIB
    assert codes.count(1009) + codes.count(None) == 40, codes  # None: reset before the close
    assert codes.count(1009) >= 1, codes
