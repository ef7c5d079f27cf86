"""The baseline socket server for P3 and P4: FastAPI on uvicorn doing the least that works.

It accepts a socket, reads one (unchecked) auth frame, answers `ready` and holds the socket.
With `BARE_RELAY_CHANNEL` set it is also the bare relay: every message published on that Redis
channel is sent as is to every open socket, one after the other. No auth, no queues, no
per-user routing: what is left is the cost of FastAPI, uvicorn and Redis themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

sockets: set[WebSocket] = set()


async def relay(channel: str) -> None:
    client = aioredis.Redis.from_url(os.environ["REDIS_URL"])
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            text = message["data"].decode()
            for websocket in list(sockets):
                with contextlib.suppress(Exception):
                    await websocket.send_text(text)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        await client.aclose()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    channel = os.environ.get("BARE_RELAY_CHANNEL")
    task = asyncio.create_task(relay(channel)) if channel else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, int]:
    return {"connections": len(sockets)}


@app.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        await websocket.receive_text()  # the auth frame, taken on trust
        await websocket.send_json({"type": "ready", "user": 0})
        sockets.add(websocket)
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        sockets.discard(websocket)
