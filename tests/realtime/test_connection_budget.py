"""While a replay runs, live frames for the socket wait in a buffer: it has the same two limits
as the send queue, frames and bytes; past either the socket is closed with 1013 and the buffer
dropped, and nothing buffered is sent."""

from __future__ import annotations

import asyncio
from typing import Any

from taskflow_realtime.connection import CLOSE_TOO_SLOW, Connection


class Peer:
    """What `Connection` uses of a Starlette WebSocket: text sends and a close (no transport
    under it, so a close is just recorded)."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.sent: list[str] = []
        self.closed_with: int | None = None

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed_with = code


def buffered_then_live(frames: list[str], *, limit: int, limit_bytes: int) -> Peer:
    async def scenario() -> Peer:
        peer = Peer()
        left: list[Connection] = []
        connection = Connection(
            peer,  # type: ignore[arg-type]
            7,
            limit=limit,
            limit_bytes=limit_bytes,
            on_close=left.append,
        )
        for number, frame in enumerate(frames):
            connection.offer((1, number), frame)
        connection.go_live(None)
        await asyncio.sleep(0.05)  # the background close, if any
        assert left == ([connection] if connection.closed else [])
        return peer

    return asyncio.run(scenario())


def test_live_frames_within_both_limits_wait_for_the_replay_then_go_in_order() -> None:
    peer = buffered_then_live(["a" * 100, "b" * 100], limit=10, limit_bytes=1000)
    assert peer.sent == ["a" * 100, "b" * 100]
    assert peer.closed_with is None


def test_past_the_byte_budget_the_socket_is_closed_1013_and_nothing_buffered_is_sent() -> None:
    peer = buffered_then_live(["a" * 600, "b" * 600], limit=10, limit_bytes=1000)
    assert peer.closed_with == CLOSE_TOO_SLOW
    assert peer.sent == []


def test_past_the_frame_limit_the_socket_is_closed_1013_too() -> None:
    peer = buffered_then_live(["a", "b", "c"], limit=2, limit_bytes=1000)
    assert peer.closed_with == CLOSE_TOO_SLOW
    assert peer.sent == []
