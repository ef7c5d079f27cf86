"""What the routes use of the process, built once at startup (app.py): FastAPI dependencies
as `Annotated` aliases for the HTTP routes, and `SocketServices` for `/ws`, which FastAPI does
not route (app.py `RealtimeApp`).

The dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in its
thread pool, a thread hop per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from taskflow_realtime.auth import TokenVerifier
from taskflow_realtime.hub import Hub
from taskflow_realtime.settings import Settings
from taskflow_realtime.socket_registry import SocketRegistry
from taskflow_realtime.stream import EventStream


async def get_hub(connection: HTTPConnection) -> Hub:
    hub: Hub = connection.app.state.hub
    return hub


async def get_stream(connection: HTTPConnection) -> EventStream:
    stream: EventStream = connection.app.state.stream
    return stream


async def get_redis(connection: HTTPConnection) -> Redis:
    redis: Redis = connection.app.state.redis
    return redis


@dataclass(frozen=True, slots=True)
class SocketServices:
    """What a `/ws` socket uses of the process."""

    settings: Settings
    hub: Hub
    stream: EventStream
    verifier: TokenVerifier
    registry: SocketRegistry


HubDep = Annotated[Hub, Depends(get_hub)]
StreamDep = Annotated[EventStream, Depends(get_stream)]
RedisDep = Annotated[Redis, Depends(get_redis)]
