"""The Redis event stream as the realtime service sees it: a tail to follow, a window to replay.

Every realtime process follows the whole stream on its own (one XREAD BLOCK loop) and delivers
to its local sockets, so a client gets its events whichever process it is connected to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from taskflow_events.codec import event_frame
from taskflow_realtime.hub import Hub
from taskflow_realtime.stream_ids import StreamId, parse_stream_id

logger = logging.getLogger(__name__)

BLOCK_MS = 5000
READ_COUNT = 500
MAX_BACKOFF_SECONDS = 2.0


Entry = tuple[str, dict[str, str]]


def _entries(raw: Any) -> list[Entry]:
    """XRANGE/XREAD entries (the client decodes responses to str)."""
    return [(str(entry_id), dict(fields)) for entry_id, fields in raw or ()]


def _entry_id(raw: str) -> StreamId:
    parsed = parse_stream_id(raw)
    if parsed is None:  # Redis only ever produces well-formed ids
        raise ValueError(f"not a stream id: {raw!r}")
    return parsed


class EventStream:
    def __init__(self, redis: Redis, name: str, *, replay_page_size: int = 500) -> None:
        self.redis = redis
        self.name = name
        self.replay_page_size = replay_page_size

    async def _info(self) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = await self.redis.xinfo_stream(self.name)
        except redis_errors.ResponseError:  # no such key: nothing was ever published (or kept)
            return None
        return info

    async def tail(self) -> str:
        info = await self._info()
        return "0-0" if info is None else str(info["last-generated-id"])

    async def can_replay_after(self, after: StreamId) -> bool:
        """Whether every entry after `after` is still retained.

        Trimming removes the oldest entries first, so if `after` is not older than the oldest
        retained entry nothing after it is gone. An id beyond the last one ever generated comes
        from a stream that no longer exists (Redis lost its data), so it is not replayable either.
        """
        info = await self._info()
        if info is None:
            return False
        last_generated = _entry_id(str(info["last-generated-id"]))
        if after > last_generated:
            return False
        first = info.get("first-entry")
        if not first:
            return after == last_generated
        return after >= _entry_id(str(first[0]))

    async def replay(self, user_id: int, after: StreamId) -> AsyncIterator[tuple[StreamId, str]]:
        """`user_id`'s events after `after`, in order, as ready-to-send frames."""
        member = str(user_id)
        lower = f"({after[0]}-{after[1]}"
        while True:
            raw: Any = await self.redis.xrange(
                self.name, min=lower, max="+", count=self.replay_page_size
            )
            entries = _entries(raw)
            for raw_id, fields in entries:
                if member in fields["r"].split(","):
                    yield _entry_id(raw_id), event_frame(raw_id, fields["e"])
            if len(entries) < self.replay_page_size:
                return
            lower = f"({entries[-1][0]}"

    async def follow(self, hub: Hub, start_after: str | None = None) -> None:
        """Deliver every entry after `start_after` (default: the tail) to the hub, forever.

        Survives Redis outages: it reconnects with backoff and goes on after the last entry seen.
        """
        last = start_after
        delay = 0.1
        while True:
            try:
                if last is None:
                    last = await self.tail()
                response: Any = await self.redis.xread(
                    {self.name: last}, count=READ_COUNT, block=BLOCK_MS
                )
                for _stream, raw_entries in response or ():
                    for raw_id, fields in _entries(raw_entries):
                        last = raw_id
                        try:
                            hub.dispatch(_entry_id(raw_id), raw_id, fields["r"], fields["e"])
                        except (KeyError, ValueError):  # not written by our publisher
                            logger.error("skipping malformed stream entry %s", raw_id)
                delay = 0.1
            except redis_errors.RedisError as exc:
                logger.warning("event stream unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
