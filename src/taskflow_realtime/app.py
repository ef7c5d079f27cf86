"""The ASGI app: `uvicorn taskflow_realtime.app:app --port $TASKFLOW_REALTIME_PORT`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from taskflow_realtime import health, log_queue, log_redaction, memory, metrics, ws
from taskflow_realtime.auth import TokenVerifier
from taskflow_realtime.deps import SocketServices
from taskflow_realtime.hub import Hub
from taskflow_realtime.settings import get_settings
from taskflow_realtime.socket_registry import SocketRegistry
from taskflow_realtime.stream import BLOCK_MS, EventStream
from taskflow_realtime.transport import keep_server_protocol

logger = logging.getLogger(__name__)

POOL_CONNECTIONS = 100  # redis-py's default maximum
POOL_WAIT_SECONDS = 2.0  # as long as the socket registry waits for an answer


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()  # raises (and uvicorn refuses to start) without a public key
    # A caller waits (up to POOL_WAIT_SECONDS) for one of the pool's connections rather than
    # failing at once when all are in use: a storm of handshakes used to find the pool empty,
    # and the socket registry, failing open, admitted them past the per-user cap.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=POOL_CONNECTIONS,
        timeout=POOL_WAIT_SECONDS,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=BLOCK_MS / 1000 + 5,  # longer than a blocking XREAD
        health_check_interval=30,
        # No silent retries: the reader must see every broken connection, since a Redis that
        # came back may have lost history (stream.EventStream._check_run); it retries itself.
        retry=Retry(NoBackoff(), 0),
    )
    redis = Redis(connection_pool=pool)
    hub = Hub()
    stream = EventStream(redis, settings.event_stream, replay_page_size=settings.replay_page_size)
    # Revocation closes the user's sockets with older tokens (docs/events.md "Control entries").
    stream.control_handlers["revoke"] = hub.on_revoke
    app.state.redis = redis
    app.state.hub = hub
    app.state.stream = stream
    registry = SocketRegistry(
        redis,
        settings.event_stream,
        max_per_user=settings.ws_max_sockets_per_user,
        heartbeat_seconds=settings.ws_registry_heartbeat_seconds,
    )
    app.state.socket_services = SocketServices(
        settings=settings,
        hub=hub,
        stream=stream,
        verifier=TokenVerifier(settings.jwt_public_key),
        registry=registry,
    )
    # The tail is taken before the port opens, so no event published after a client connects
    # can fall before the reader's starting point. Redis down now: the reader finds it later.
    try:
        start_after: str | None = await stream.tail()
    except RedisError as exc:
        logger.warning("event stream unreachable at startup (%s)", exc)
        start_after = None
    reader = asyncio.create_task(stream.follow(hub, start_after), name="event-stream-reader")
    renewer = asyncio.create_task(registry.keep_alive(hub.members), name="socket-registry")
    logger.info("following event stream %s", settings.event_stream)
    if settings.realtime_log_queue:
        log_queue.install()  # uvicorn has configured its handlers by now
    memory.freeze_startup_heap()
    try:
        yield
    finally:
        for task in (reader, renewer):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await redis.aclose(close_connection_pool=True)


class RealtimeApp:
    """The process's ASGI app: `/ws` goes straight to its handler, everything else (the
    lifespan, `/health`, `/metrics`) through FastAPI.

    Every socket, a refused one too, starts with a handshake, and a client can open them as
    fast as it likes. Through FastAPI's stack (its middleware, router and dependency layers) a
    handshake cost a third more than the handler's own work (bench/NOTES.md, "P7"); `/ws` has
    one route, no body and no dependency that layer would add anything to.
    """

    def __init__(self, api: FastAPI) -> None:
        self.api = api

    @property
    def state(self) -> State:
        return self.api.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == ws.PATH:
            keep_server_protocol(scope, send)  # so a stuck close can abort the transport
            socket = WebSocket(scope, receive, send)
            await ws.events_socket(socket, self.api.state.socket_services)
        else:
            await self.api(scope, receive, send)


def apply_log_level() -> None:
    """`LOG_LEVEL`, when set, is this process's log level as it is the core's. At `INFO` uvicorn
    writes lines for every socket (a quarter of what a refused handshake costs the process); at
    `WARNING` it does not even make them (docs/operations.md, "Gateway limits and logs")."""
    level = os.environ.get("LOG_LEVEL", "").strip().upper()
    if level:
        for name in log_redaction.UVICORN_LOGGERS:
            logging.getLogger(name).setLevel(level)


def create_app() -> RealtimeApp:
    apply_log_level()
    log_redaction.install()  # before the first handshake is logged
    api = FastAPI(title="TaskFlow Pro realtime", lifespan=lifespan, docs_url=None, redoc_url=None)
    api.include_router(health.router)
    api.include_router(metrics.router)
    return RealtimeApp(api)


app = create_app()
