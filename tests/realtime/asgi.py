"""The realtime app in this test's event loop, with the test as the WebSocket peer.

`running_app` runs the real app (lifespan, stream reader, real Redis) in-process; `AsgiSocket`
speaks the ASGI WebSocket protocol to it. The peer can stop reading (`stop_reading`): the app's
sends then wait, as uvicorn's do while a slow client's transport is paused, until it reads again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from taskflow_events.codec import decode_server_frame, encode_event
from taskflow_events.events import TaskDeleted, TaskDeletedData
from taskflow_events.payloads import DeletedTaskPayload
from taskflow_realtime.app import RealtimeApp, create_app
from taskflow_realtime.hub import Hub

Message = dict[str, Any]
TIMEOUT = 30.0  # generous: the machine is shared


@asynccontextmanager
async def running_app() -> AsyncIterator[RealtimeApp]:
    """The app with its lifespan entered (settings come from the environment)."""
    app = create_app()
    async with app.api.router.lifespan_context(app.api):
        yield app
        # The lifespan cancels the stream reader, which sits in a blocking XREAD. In these tests
        # (redis-py 8.1, asyncio's loop and uvloop) that cancellation was now and then lost: the
        # reader, "cancelling", went on reading. The read is ended first by closing its socket.
        await app.state.redis.connection_pool.disconnect()


def hub_of(app: RealtimeApp) -> Hub:
    hub: Hub = app.state.hub
    return hub


def encoded_event(task_id: int) -> str:
    event = TaskDeleted(
        occurred_at=datetime(2026, 11, 28, tzinfo=UTC),
        team=1,
        actor=None,
        data=TaskDeletedData(task=DeletedTaskPayload(id=task_id)),
    )
    return encode_event(event)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not condition():  # noqa: ASYNC110  (polls the app's state: it has no event)
            await asyncio.sleep(0.005)


class AsgiSocket:
    def __init__(self, app: RealtimeApp) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._reading = asyncio.Event()
        self._reading.set()
        self.sends_waiting = 0
        self.task: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    async def _receive(self) -> Message:
        return await self._to_app.get()

    async def _send(self, message: MutableMapping[str, Any]) -> None:
        if not self._reading.is_set():
            self.sends_waiting += 1
            await self._reading.wait()
            self.sends_waiting -= 1
        self._from_app.put_nowait(dict(message))

    async def open(self) -> AsgiSocket:
        scope: Message = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": "/ws",
            "raw_path": b"/ws",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
        }
        run: Awaitable[None] = self._app(scope, self._receive, self._send)
        self.task = asyncio.ensure_future(run)
        self._to_app.put_nowait({"type": "websocket.connect"})
        accepted = await self._next_message()
        assert accepted["type"] == "websocket.accept", accepted
        return self

    async def _next_message(self) -> Message:
        async with asyncio.timeout(TIMEOUT):
            return await self._from_app.get()

    def send(self, frame: Message | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        self._to_app.put_nowait({"type": "websocket.receive", "text": text})

    def send_bytes(self, data: bytes) -> None:
        self._to_app.put_nowait({"type": "websocket.receive", "bytes": data})

    async def auth(self, token: str, last_event_id: str | None = None) -> Message:
        self.send({"type": "auth", "token": token, "last_event_id": last_event_id})
        ready = await self.next()
        assert ready["type"] == "ready", ready
        return ready

    async def next(self) -> Message:
        """The next frame from the server, checked against the contract."""
        message = await self._next_message()
        assert message["type"] == "websocket.send", message
        decode_server_frame(message["text"])
        frame: Message = json.loads(message["text"])
        return frame

    async def events(self, count: int) -> list[Message]:
        frames = [await self.next() for _ in range(count)]
        assert all(frame["type"] == "event" for frame in frames), frames
        return frames

    async def closed(self) -> int:
        """Read (dropping frames) until the app closes the socket; the close code."""
        while True:
            message = await self._next_message()
            if message["type"] == "websocket.close":
                self.close_code = int(message.get("code", 1000))
                return self.close_code

    def stop_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    async def disconnect(self) -> None:
        """The peer goes away; the app's handler ends."""
        self._to_app.put_nowait({"type": "websocket.disconnect", "code": 1000})
        assert self.task is not None
        async with asyncio.timeout(TIMEOUT):
            await self.task
