"""One authenticated socket: frames go out at once, or wait in a bounded queue drained by a
short-lived sender task while the peer is not keeping up (`eager_send.EagerSender`).

The stream reader only ever calls `offer`, which never awaits: a socket that stops reading fills
its own queue and is closed, and cannot delay anyone else. Idle sockets hold no task and no
buffer (the sender task exists only while frames are waiting), which keeps their memory small.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from starlette.websockets import WebSocket

from taskflow_realtime import memory
from taskflow_realtime.eager_send import EagerSender
from taskflow_realtime.stream_ids import StreamId
from taskflow_realtime.transport import abort_transport, transport_open

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_FRAME = 4400
CLOSE_TOO_SLOW = 1013  # "try again later": the client fell too far behind
CLOSE_TOO_MANY_SOCKETS = 4429  # the user has the maximum number of sockets open
# A close frame waits behind everything the peer has not read; a peer that stopped reading
# never gets it. After this long the TCP connection is reset instead (transport.py).
CLOSE_DEADLINE_SECONDS = 2.0
CLOSE_POLL_SECONDS = 0.05


class Connection(EagerSender):
    __slots__ = (
        "_buffer",
        "_buffered_bytes",
        "_closer",
        "_expiry",
        "_on_close",
        "close_code",
        "closed",
        "issued_at",
        "member",
        "user_id",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        user_id: int,
        *,
        limit: int,
        limit_bytes: int,
        on_close: Callable[[Connection], None],
        issued_at: int = 0,
        member: str = "",
    ) -> None:
        super().__init__(websocket.send_text, limit=limit, limit_bytes=limit_bytes)
        self.websocket = websocket
        self.user_id = user_id
        self.closed = False
        self.close_code: int | None = None  # set when the server closes it
        self._on_close = on_close
        # The token's iat: a revocation closes the socket when this is before its cut-off.
        self.issued_at = issued_at
        # This socket in the socket registry (the per-user cap across processes).
        self.member = member
        self._closer: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None
        # While the replay runs, live frames wait here, with their ids to drop duplicates
        # (None: a frame that is always sent, such as `resync`).
        self._buffer: list[tuple[StreamId | None, str]] | None = []
        self._buffered_bytes = 0

    def offer(self, stream_id: StreamId | None, frame: str) -> None:
        """Queue a live frame (an event, or `resync` with no id); called by the stream reader,
        so it must never block."""
        if self.closed:
            return
        if self._buffer is not None:
            self._buffered_bytes += len(frame)
            over_budget = self._limit_bytes is not None and self._buffered_bytes > self._limit_bytes
            if len(self._buffer) >= self._limit or over_budget:
                logger.info("closing a socket of user %s: too much waiting (replay)", self.user_id)
                self.close_soon(CLOSE_TOO_SLOW)
            else:
                self._buffer.append((stream_id, frame))
            return
        self._enqueue(frame)

    def go_live(self, replayed_up_to: StreamId | None) -> None:
        """End the replay: send buffered live events the replay did not already send."""
        buffered, self._buffer = self._buffer or [], None
        self._buffered_bytes = 0
        for stream_id, frame in buffered:
            if stream_id is None or replayed_up_to is None or stream_id > replayed_up_to:
                self._enqueue(frame)

    def _enqueue(self, frame: str) -> None:
        if self.closed:
            return
        if not self.push(frame):
            self.close_soon(CLOSE_TOO_SLOW)

    def expire_at(self, unix_time: float) -> None:
        """Close with 4401 when the access token expires (a fresh `auth` frame moves this)."""
        if self._expiry is not None:
            self._expiry.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, unix_time - time.time())
        self._expiry = loop.call_later(delay, self.close_soon, CLOSE_UNAUTHORIZED)

    def _send_failed(self) -> None:
        self._mark_closed()  # the peer went away; the receive loop sees the disconnect
        self._reap_later()

    def detach(self) -> None:
        """The socket is finished: stop delivering to it and leave the hub."""
        self._mark_closed()
        self._reap_later()

    def _reap_later(self) -> None:
        """However the socket ended (the peer left, a keep-alive ping went unanswered, the
        endpoint returned), its TCP connection must not outlive the deadline: uvicorn's close
        of the transport waits for the unread data to drain, which a peer that stopped reading
        never lets happen."""
        if self._closer is None:
            self._closer = asyncio.create_task(self._reap())

    async def _reap(self) -> None:
        if await self._closed_within(CLOSE_DEADLINE_SECONDS):
            return
        abort_transport(self.websocket)
        logger.warning(
            "socket of user %s still open %.0fs after it ended: reset",
            self.user_id,
            CLOSE_DEADLINE_SECONDS,
        )

    async def _closed_within(self, seconds: float) -> bool:
        """Poll until the TCP connection is gone; False if it is still there after `seconds`."""
        for _ in range(max(0, int(seconds / CLOSE_POLL_SECONDS))):
            if not transport_open(self.websocket):
                return True
            await asyncio.sleep(CLOSE_POLL_SECONDS)
        return not transport_open(self.websocket)

    def _mark_closed(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._buffer = None
        self.stop()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._on_close(self)

    def close_soon(self, code: int) -> None:
        """Stop delivering now and close the socket in the background (callable from sync code)."""
        if self.closed:
            return
        if code == CLOSE_TOO_SLOW:
            logger.warning(
                "dropping a slow socket of user %s: more than %s frames or %s bytes waiting",
                self.user_id,
                self._limit,
                self._limit_bytes,
            )
        self.close_code = code
        self._mark_closed()
        self._closer = asyncio.create_task(self._close_socket(code))

    async def close(self, code: int, reason: str = "") -> None:
        if not self.closed:
            self.close_code = code
        self._mark_closed()
        await self._close_socket(code, reason)

    async def _close_socket(self, code: int, reason: str = "") -> None:
        """Close with `code` within the deadline; else reset the connection, which releases
        whatever was queued for it. The socket may already be gone (the peer left, or uvicorn
        closed it): nothing to do then."""
        if code == CLOSE_TOO_SLOW:  # its buffers are freed once it is gone (memory.py)
            memory.trim_soon()
        started = asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(self.websocket.close(code, reason), CLOSE_DEADLINE_SECONDS)
        except TimeoutError:
            pass
        except Exception:
            logger.debug("socket of user %s already closed", self.user_id)
        # A peer that reads answers the close at once and the connection ends; one that does
        # not leaves it open, behind its unread data.
        left = CLOSE_DEADLINE_SECONDS - (asyncio.get_running_loop().time() - started)
        if not await self._closed_within(left):
            abort_transport(self.websocket)
            memory.trim_soon()
            logger.warning(
                "socket of user %s did not complete its close (%s) within %.0fs: reset",
                self.user_id,
                code,
                CLOSE_DEADLINE_SECONDS,
            )
