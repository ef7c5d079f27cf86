"""FastAPI dependencies as `Annotated` aliases; the objects live on `app.state` (see app.py).

They are `async def` on purpose: FastAPI runs a plain `def` dependency in its thread pool, and
these run on every `/ws` handshake (a thread hop each was an eighth of the process's CPU under a
flood of refused sockets, bench/NOTES.md "P7 abuse"). For the same reason `/ws` takes the
process's services as one dependency (`SocketServicesDep`): FastAPI resolving five of them was
a tenth of a handshake's cost."""

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
    """What a `/ws` socket uses of the process, built once at startup (app.py)."""

    settings: Settings
    hub: Hub
    stream: EventStream
    verifier: TokenVerifier
    registry: SocketRegistry


async def get_socket_services(connection: HTTPConnection) -> SocketServices:
    services: SocketServices = connection.app.state.socket_services
    return services


HubDep = Annotated[Hub, Depends(get_hub)]
StreamDep = Annotated[EventStream, Depends(get_stream)]
RedisDep = Annotated[Redis, Depends(get_redis)]
SocketServicesDep = Annotated[SocketServices, Depends(get_socket_services)]
