"""One authenticated socket: frames go out at once, or wait in a bounded queue drained by a
short-lived sender task while the peer is not keeping up.

The stream reader only ever calls `offer`, which never awaits: a socket that stops reading fills
its own queue and is closed, and cannot delay anyone else. Idle sockets hold no task and no
buffer (the sender exists only while frames are waiting), which keeps their memory small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from starlette.websockets import WebSocket

from taskflow_realtime.stream_ids import StreamId

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_FRAME = 4400
CLOSE_TOO_SLOW = 1013  # "try again later": the client fell too far behind


class Connection:
    __slots__ = (
        "_buffer",
        "_closer",
        "_expiry",
        "_limit",
        "_on_close",
        "_pending",
        "_sender",
        "closed",
        "user_id",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        user_id: int,
        *,
        limit: int,
        on_close: Callable[[Connection], None],
    ) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.closed = False
        self._limit = limit
        self._on_close = on_close
        self._pending: deque[str] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None
        # While the replay runs, live frames wait here, with their ids to drop duplicates
        # (None: a frame that is always sent, such as `resync`).
        self._buffer: list[tuple[StreamId | None, str]] | None = []

    def offer(self, stream_id: StreamId | None, frame: str) -> None:
        """Queue a live frame (an event, or `resync` with no id); called by the stream reader,
        so it must never block."""
        if self.closed:
            return
        if self._buffer is not None:
            if len(self._buffer) >= self._limit:
                self.close_soon(CLOSE_TOO_SLOW)
            else:
                self._buffer.append((stream_id, frame))
            return
        self._enqueue(frame)

    def go_live(self, replayed_up_to: StreamId | None) -> None:
        """End the replay: send buffered live events the replay did not already send."""
        buffered, self._buffer = self._buffer or [], None
        for stream_id, frame in buffered:
            if stream_id is None or replayed_up_to is None or stream_id > replayed_up_to:
                self._enqueue(frame)

    def _enqueue(self, frame: str) -> None:
        if self.closed:
            return
        if self._sender is None:  # nothing is waiting: send right now
            self._send_eagerly(frame)
            return
        if self._pending is None:
            self._pending = deque()
        if len(self._pending) >= self._limit:
            logger.info("closing a socket of user %s: send queue full", self.user_id)
            self.close_soon(CLOSE_TOO_SLOW)
            return
        self._pending.append(frame)

    def _send_eagerly(self, frame: str) -> None:
        """Send without a task while the peer keeps up: the send is stepped by hand and, as
        long as the transport is writable, finishes without suspending. A 5,000-member fan-out
        used to create 5,000 tasks per event, whose garbage set off full collections of
        hundreds of milliseconds. Only a send that must wait for the peer gets a task, which
        finishes it and then drains whatever queued up behind it."""
        send = self.websocket.send_text(frame)
        try:
            waiting_on = send.send(None)
        except StopIteration:
            return
        except Exception:  # the peer went away; the receive loop sees the disconnect
            self._mark_closed()
            return
        self._sender = asyncio.create_task(self._drain(_Started(send, waiting_on)))

    async def _drain(self, started: _Started) -> None:
        try:
            await started
            while self._pending:
                await self.websocket.send_text(self._pending.popleft())
        except Exception:  # the peer went away mid-send; the receive loop sees the disconnect
            self._mark_closed()
        finally:
            self._sender = None
            if not self._pending:
                self._pending = None

    def expire_at(self, unix_time: float) -> None:
        """Close with 4401 when the access token expires (a fresh `auth` frame moves this)."""
        if self._expiry is not None:
            self._expiry.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, unix_time - time.time())
        self._expiry = loop.call_later(delay, self.close_soon, CLOSE_UNAUTHORIZED)

    def detach(self) -> None:
        """The socket is finished: stop delivering to it and leave the hub."""
        self._mark_closed()

    def _mark_closed(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._buffer = None
        self._pending = None
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if self._sender is not None and self._sender is not asyncio.current_task():
            self._sender.cancel()
        self._on_close(self)

    def close_soon(self, code: int) -> None:
        """Stop delivering now and close the socket in the background (callable from sync code)."""
        if self.closed:
            return
        self._mark_closed()
        self._closer = asyncio.create_task(self._close_socket(code))

    async def close(self, code: int) -> None:
        self._mark_closed()
        await self._close_socket(code)

    async def _close_socket(self, code: int) -> None:
        # The socket may already be gone (peer left, or closed by uvicorn): nothing to do then.
        with contextlib.suppress(Exception):
            await self.websocket.close(code)


class _Started:
    """Awaiting this finishes a coroutine that was stepped by hand and then suspended: it
    hands what the coroutine waits on to the awaiting task, and resumes the coroutine (or
    throws the task's cancellation into it) when that is done."""

    __slots__ = ("_coroutine", "_waiting_on")

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coroutine, self._waiting_on = coroutine, waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        waiting_on = self._waiting_on
        while True:
            try:
                yield waiting_on
            except BaseException as error:
                try:
                    waiting_on = self._coroutine.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = self._coroutine.send(None)
                except StopIteration:
                    return
