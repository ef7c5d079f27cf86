"""This process's open sockets, by user id, and the fan-out of stream entries to them."""

from __future__ import annotations

import logging
from typing import Any

from taskflow_events.codec import encode_frame, event_frame
from taskflow_events.control import Revoke
from taskflow_events.frames import ResyncFrame
from taskflow_realtime.connection import CLOSE_TOO_SLOW, CLOSE_UNAUTHORIZED, Connection
from taskflow_realtime.metrics import RealtimeMetrics
from taskflow_realtime.stream_ids import StreamId

logger = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self._by_user: dict[int, set[Connection]] = {}
        self.connection_count = 0
        self.metrics = RealtimeMetrics(open_sockets=lambda: self.connection_count)

    def add(self, connection: Connection) -> None:
        self._by_user.setdefault(connection.user_id, set()).add(connection)
        self.connection_count += 1

    def open_sockets(self, user_id: int) -> int:
        """The user's sockets on this process."""
        return len(self._by_user.get(user_id, ()))

    def remove(self, connection: Connection) -> None:
        sockets = self._by_user.get(connection.user_id)
        if sockets is None or connection not in sockets:
            return
        sockets.discard(connection)
        self.connection_count -= 1
        if connection.close_code == CLOSE_TOO_SLOW:
            self.metrics.dropped_slow.inc()
        if not sockets:
            del self._by_user[connection.user_id]

    def dispatch(self, stream_id: StreamId, id_text: str, recipients: str, event: str) -> None:
        """Offer one stream entry to every local socket of its recipients."""
        targets = [
            connection
            for user_id in recipients.split(",")
            if user_id
            for connection in self._by_user.get(int(user_id), ())
        ]
        if not targets:
            return
        frame = event_frame(id_text, event)  # built once, shared by every recipient
        for connection in targets:
            connection.offer(stream_id, frame)

    def resync_all(self) -> None:
        """Tell every local socket that events may have been lost (Redis lost history)."""
        frame = encode_frame(ResyncFrame())
        for sockets in list(self._by_user.values()):
            for connection in list(sockets):
                connection.offer(None, frame)

    def on_revoke(self, entry_id: str, message: dict[str, Any]) -> None:
        """The stream's `revoke` control entry (docs/events.md "Control entries"); registered
        in `EventStream.control_handlers`. A malformed one raises ValueError (logged, skipped)."""
        revoke = Revoke.model_validate(message)
        self.revoke(revoke.user, revoke.before)

    def revoke(self, user_id: int, before: int) -> None:
        """Close, with 4401, the user's sockets authenticated with a token issued before
        `before` (a socket re-authenticated since with a newer token stays open)."""
        revoked = [c for c in self._by_user.get(user_id, ()) if c.issued_at < before]
        for connection in revoked:
            connection.close_soon(CLOSE_UNAUTHORIZED)
        if revoked:
            logger.info("closed %d socket(s) of user %s: tokens revoked", len(revoked), user_id)

    def members(self) -> list[tuple[int, list[str]]]:
        """(user id, the socket registry members of that user's sockets here), for renewal."""
        return [
            (user_id, [connection.member for connection in sockets])
            for user_id, sockets in self._by_user.items()
        ]
