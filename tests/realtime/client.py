"""A real WebSocket client (websockets' sync client) speaking docs/protocol.md, for integration
tests."""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

Frame = dict[str, Any]


class SocketClient:
    def __init__(self, url: str) -> None:
        self.ws: ClientConnection = connect(url, open_timeout=20, close_timeout=5, legacy=True)

    def send(self, frame: Frame | str) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def auth(self, token: str, last_event_id: str | None = None) -> Frame:
        """Authenticate and return the `ready` frame."""
        self.send({"type": "auth", "token": token, "last_event_id": last_event_id})
        ready = self.next()
        assert ready["type"] == "ready", ready
        return ready

    def next(self, timeout: float = 20.0) -> Frame:
        frame: Frame = json.loads(self.ws.recv(timeout=timeout))
        return frame

    def events(self, count: int, timeout: float = 30.0) -> list[Frame]:
        deadline = time.monotonic() + timeout
        frames: list[Frame] = []
        while len(frames) < count:
            frame = self.next(timeout=max(0.01, deadline - time.monotonic()))
            assert frame["type"] == "event", frame
            frames.append(frame)
        return frames

    def expect_silence(self, seconds: float) -> None:
        try:
            frame = self.ws.recv(timeout=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, received {frame!r}")

    def send_bytes(self, data: bytes) -> None:
        self.ws.send(data)

    def expect_close(self, code: int, timeout: float = 20.0, reason: str | None = None) -> None:
        """Read until the server closes the socket; it must close with `code` (and `reason`)."""
        deadline = time.monotonic() + timeout
        closed: ConnectionClosed | None = None
        while closed is None:
            try:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
            except ConnectionClosed as exc:
                closed = exc
        assert closed.rcvd is not None, f"closed without a close frame: {closed!r}"
        assert closed.rcvd.code == code, closed.rcvd
        if reason is not None:
            assert closed.rcvd.reason == reason, closed.rcvd

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> SocketClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
