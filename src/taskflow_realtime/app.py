"""The ASGI app: `uvicorn taskflow_realtime.app:app --port $TASKFLOW_REALTIME_PORT`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from taskflow_realtime import health, log_queue, log_redaction, memory, metrics, ws
from taskflow_realtime.auth import TokenVerifier
from taskflow_realtime.deps import SocketServices
from taskflow_realtime.hub import Hub
from taskflow_realtime.settings import get_settings
from taskflow_realtime.socket_registry import SocketRegistry
from taskflow_realtime.stream import BLOCK_MS, EventStream
from taskflow_realtime.transport import KeepServerProtocol

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
    app.state.settings = settings
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


def create_app() -> FastAPI:
    log_redaction.install()  # before the first handshake is logged
    app = FastAPI(title="TaskFlow Pro realtime", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.add_middleware(KeepServerProtocol)  # so a stuck close can abort the transport
    app.include_router(ws.router)
    return app


app = create_app()
