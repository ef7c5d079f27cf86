"""Frames sent in order through an async `send`, with no task while each send completes at once.

`EagerSender.push` runs the send coroutine's first step right away, by hand. A send that can
finish without waiting (uvicorn's WebSocket send, while the socket's transport accepts writes)
finishes inside that step: no task, future or queue is created. A send that has to wait (the
peer is not reading, so the transport paused writing) is handed to a task, which finishes it and
then sends, in order, the frames pushed in the meantime; at most `limit` of them, and at most
`limit_bytes` characters of them (≈ bytes: frames are JSON, nearly all ASCII), wait, and `push`
refuses more. `stop` cancels a waiting send and drops what is queued.

Why and what it assumes: docs/events.md ("Sending without a task per frame").
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any

Send = Callable[[str], Coroutine[Any, Any, None]]


class EagerSender:
    """Subclassed by `Connection`, which reacts to a failed send in `_send_failed`. A base class
    rather than a member given a callback: a member calling back into the socket would put every
    socket in a reference cycle, left for the garbage collector instead of freed at once."""

    __slots__ = ("_limit", "_limit_bytes", "_pending", "_pending_bytes", "_send", "_task")

    def __init__(self, send: Send, *, limit: int, limit_bytes: int | None = None) -> None:
        self._send = send
        self._limit = limit
        self._limit_bytes = limit_bytes
        self._pending: deque[str] | None = None  # frames pushed while a send waits
        self._pending_bytes = 0  # their total length
        self._task: asyncio.Task[None] | None = None  # exists only while a send waits

    def _send_failed(self) -> None:
        """A send raised (the peer is gone); the frames queued behind it are dropped, and a later
        `push` tries again."""

    def push(self, frame: str) -> bool:
        """Send `frame` after every frame pushed before it; False when `limit` frames already
        wait (nothing is queued then). Never awaits."""
        if self._task is None:  # nothing is waiting: send right now
            send = self._send(frame)
            try:
                waiting_on = send.send(None)
            except StopIteration:
                return True
            except Exception:
                self._send_failed()
                return True
            self._task = asyncio.create_task(self._finish(_Started(send, waiting_on)))
            return True
        if self._pending is None:
            self._pending = deque()
        if len(self._pending) >= self._limit or (
            self._limit_bytes is not None and self._pending_bytes + len(frame) > self._limit_bytes
        ):
            return False
        self._pending.append(frame)
        self._pending_bytes += len(frame)
        return True

    def stop(self) -> None:
        """Drop the queued frames and cancel a waiting send (unless called from within it)."""
        self._pending = None
        self._pending_bytes = 0
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    async def _finish(self, started: _Started) -> None:
        try:
            await started
            while self._pending:
                frame = self._pending.popleft()
                self._pending_bytes -= len(frame)
                await self._send(frame)
        except Exception:
            self._pending = None  # what waited behind a failed send cannot go either
            self._pending_bytes = 0
            self._send_failed()
        finally:
            self._task = None
            if not self._pending:
                self._pending = None
                self._pending_bytes = 0


class _Started:
    """Awaiting this finishes a coroutine that was stepped by hand and then suspended: it hands
    what the coroutine waits on (a future, or None for a bare yield) to the awaiting task, and
    resumes the coroutine when that is done, or throws the task's cancellation into it."""

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
