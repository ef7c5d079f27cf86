"""`/ws` (docs/protocol.md): auth within the timeout, `ready`, replay or `resync`, then live
events. At `auth` the socket registry refuses a revoked token (4401) and a user's socket over
the cap (4429).

Replay/live boundary: the connection is registered first, so live events are buffered while
the replay reads the stream; the buffer is then flushed minus the ids the replay already sent.
Every event therefore arrives exactly once, in stream order.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from taskflow_events.codec import encode_frame
from taskflow_events.frames import ReadyFrame, ResyncFrame
from taskflow_realtime.auth import TokenVerifier
from taskflow_realtime.client_frames import Refusal, authenticate, malformed, unauthorized
from taskflow_realtime.connection import CLOSE_TOO_MANY_SOCKETS, CLOSE_UNAUTHORIZED, Connection
from taskflow_realtime.deps import SocketServices
from taskflow_realtime.metrics import RealtimeMetrics
from taskflow_realtime.socket_registry import Admission, SocketRegistry
from taskflow_realtime.stream import EntryGone, EventStream
from taskflow_realtime.stream_ids import StreamId, parse_stream_id
from taskflow_realtime.transport import limit_send_buffer

logger = logging.getLogger(__name__)
PATH = "/ws"

TOO_MANY_SOCKETS = "too many sockets for this user"


async def events_socket(websocket: WebSocket, services: SocketServices) -> None:
    settings, hub, stream = services.settings, services.hub, services.stream
    verifier, registry = services.verifier, services.registry
    await websocket.accept()
    if settings.ws_socket_send_buffer_bytes:
        limit_send_buffer(websocket, settings.ws_socket_send_buffer_bytes)
    timeout = settings.ws_auth_timeout_seconds
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout)
    except TimeoutError:
        await _close_quietly(websocket, unauthorized(f"no auth frame within {timeout:g} s"))
        return
    if message["type"] == "websocket.disconnect":
        return
    text = message.get("text")
    authenticated = (
        authenticate(text, verifier) if text is not None else malformed("text frames only")
    )
    if isinstance(authenticated, Refusal):
        await _close_quietly(websocket, authenticated)
        return
    frame, claims = authenticated
    if registry.full_here(claims.user_id, hub.open_sockets(claims.user_id)):
        await _close_quietly(websocket, Refusal(CLOSE_TOO_MANY_SOCKETS, TOO_MANY_SOCKETS))
        return

    connection = Connection(
        websocket,
        claims.user_id,
        limit=settings.ws_send_queue_size,
        limit_bytes=settings.ws_send_queue_bytes,
        on_close=hub.remove,
        issued_at=claims.issued_at,
        member=registry.new_member(),
    )
    # Registered before the registry is asked: a revocation published from now on closes it
    # (from the stream), one published before is in the key the registry reads.
    hub.add(connection)  # from here on, live events for this user are buffered
    admitted = False
    try:
        admission = await registry.admit(claims.user_id, connection.member, claims.issued_at)
        if admission is not Admission.OK:
            if admission is Admission.REVOKED:
                await connection.close(CLOSE_UNAUTHORIZED, "token revoked")
            else:
                await connection.close(CLOSE_TOO_MANY_SOCKETS, TOO_MANY_SOCKETS)
            return
        admitted = True
        connection.expire_at(claims.expires_at)
        await websocket.send_text(encode_frame(ReadyFrame(user=claims.user_id)))
        replayed_up_to = await _replay(
            websocket, stream, claims.user_id, frame.last_event_id, hub.metrics
        )
        connection.go_live(replayed_up_to)
        await _receive(websocket, connection, verifier, registry)
    except WebSocketDisconnect:
        pass
    except RuntimeError:
        # Starlette refuses a send after our close: the socket was closed meanwhile (revoked,
        # expired, too slow). Anything else is a bug and goes on up.
        if not connection.closed:
            raise
    finally:
        connection.detach()
        if admitted:  # a refused socket never took a place
            await registry.release(claims.user_id, connection.member)


async def _replay(
    websocket: WebSocket,
    stream: EventStream,
    user_id: int,
    last_event_id: str | None,
    metrics: RealtimeMetrics,
) -> StreamId | None:
    """Send the user's events after `last_event_id` (or `resync`); the last id sent."""
    if last_event_id is None:
        return None
    stream.stats.replays += 1
    after = parse_stream_id(last_event_id)
    # An id that is not ours (unparseable, from lost history, or from a stream Redis no longer
    # has) cannot be caught up from: the client re-reads the REST API, as for an id older than
    # the window.
    try:
        replayable = after is not None and await stream.can_replay_after(user_id, after)
    except RedisError as exc:
        logger.warning("cannot check the replay window (%s); asking the client to resync", exc)
        replayable = False
    if after is None or not replayable:
        metrics.resyncs.inc()
        await _resync(websocket, stream)
        return None
    metrics.replays.inc()
    last = after
    try:
        async for stream_id, frame in stream.replay(user_id, after):
            await websocket.send_text(frame)
            last = stream_id
    except (RedisError, EntryGone) as exc:
        # Redis went away, or trimmed an entry, mid-replay: what was sent is in order; the
        # client fills the rest from the REST API, and live events go on.
        logger.warning("replay interrupted (%r); asking the client to resync", exc)
        metrics.resyncs.inc()
        await _resync(websocket, stream)
    return last


async def _resync(websocket: WebSocket, stream: EventStream) -> None:
    stream.stats.resyncs += 1
    await websocket.send_text(encode_frame(ResyncFrame()))


async def _receive(
    websocket: WebSocket,
    connection: Connection,
    verifier: TokenVerifier,
    registry: SocketRegistry,
) -> None:
    """Client frames after `ready`: a fresh `auth` (same user, not revoked) pushes the expiry
    back."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        authenticated = (
            authenticate(text, verifier) if text is not None else malformed("text frames only")
        )
        if (
            not isinstance(authenticated, Refusal)
            and authenticated[1].user_id != connection.user_id
        ):
            authenticated = unauthorized("a token of another user")
        if not isinstance(authenticated, Refusal) and await registry.is_revoked(
            connection.user_id, authenticated[1].issued_at
        ):
            authenticated = unauthorized("token revoked")
        if isinstance(authenticated, Refusal):
            await connection.close(authenticated.code, authenticated.reason)
            return
        connection.issued_at = authenticated[1].issued_at
        connection.expire_at(authenticated[1].expires_at)


async def _close_quietly(websocket: WebSocket, refusal: Refusal) -> None:
    try:
        await websocket.close(refusal.code, refusal.reason)
    except (RuntimeError, WebSocketDisconnect):
        logger.debug("socket already closed")
