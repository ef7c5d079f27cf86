"""The Redis event stream as the realtime service sees it: a tail to follow, and a user's
index to replay from (layout, epoch and replay rules: docs/events.md).

Every realtime process follows the whole stream on its own (one XREAD BLOCK loop) and delivers
to its local sockets, so a client gets its events whichever process it is connected to. A
replay reads the user's index (`<stream>:u:<user>`, one entry per event for that user, with the
event's own id) a page at a time and fetches just those entries from the stream: its cost is
proportional to what the user is owed, not to the size of the window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from taskflow_events import keys
from taskflow_events.codec import event_frame
from taskflow_events.control import control_kind
from taskflow_realtime.hub import Hub
from taskflow_realtime.stream_ids import StreamId, parse_stream_id

logger = logging.getLogger(__name__)

BLOCK_MS = 5000
READ_COUNT = 500
MAX_BACKOFF_SECONDS = 2.0
# Stream entries fetched per round trip during a replay: with frames of up to 64 KiB, at most
# a few MiB held per replay at a time.
FETCH_CHUNK = 50

Entry = tuple[str, dict[str, str]]
# A control message other than `epoch` (e.g. revocation), by kind: (entry id, message).
ControlHandler = Callable[[str, dict[str, Any]], None]


class EntryGone(Exception):
    """An id from the user's index whose stream entry was trimmed meanwhile."""


@dataclass
class ReplayStats:
    """Counters for /health: how many replays ran, how many got `resync`, and how many Redis
    entries (index and stream) they read."""

    replays: int = 0
    resyncs: int = 0
    entries_read: int = 0


def _entries(raw: Any) -> list[Entry]:
    """XRANGE/XREAD entries (the client decodes responses to str)."""
    return [(str(entry_id), dict(fields)) for entry_id, fields in raw or ()]


def _entry_id(raw: str) -> StreamId:
    parsed = parse_stream_id(raw)
    if parsed is None:  # Redis only ever produces well-formed ids
        raise ValueError(f"not a stream id: {raw!r}")
    return parsed


class EventStream:
    def __init__(
        self,
        redis: Redis,
        name: str,
        *,
        replay_page_size: int = 500,
    ) -> None:
        self.redis = redis
        self.name = name
        self.replay_page_size = replay_page_size
        self.stats = ReplayStats()
        self.control_handlers: dict[str, ControlHandler] = {}
        # The Redis run (INFO run_id) the reader follows; a new one means Redis restarted.
        self.run_id: str | None = None
        # Set when this process saw Redis restart, until it sees the relay's epoch entry: until
        # then no replay is trusted even if the epoch hash is missing.
        self.unsettled = False

    async def _info(self) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = await self.redis.xinfo_stream(self.name)
        except redis_errors.ResponseError:  # no such key: nothing was ever published (or kept)
            return None
        return info

    async def tail(self) -> str:
        info = await self._info()
        return "0-0" if info is None else str(info["last-generated-id"])

    async def can_replay_after(self, user_id: int, after: StreamId) -> bool:
        """Whether every event for `user_id` after `after` is still retained (one round trip).

        Conservative: it may answer no one entry early, never yes with a hole. See
        docs/events.md "Replay" for each rule.
        """
        index = keys.user_index_key(self.name, user_id)
        pipeline = self.redis.pipeline(transaction=False)
        pipeline.xinfo_stream(self.name)
        pipeline.hgetall(keys.epoch_key(self.name))
        pipeline.xrange(index, count=1)
        pipeline.info("server")
        info, epoch, index_first, server = await pipeline.execute(raise_on_error=False)
        for answer in (epoch, index_first, server):
            if isinstance(answer, Exception):
                raise answer
        if isinstance(info, Exception):  # no stream: Redis lost it, or nothing was published
            return False
        # History may be lost: Redis restarted and the relay has not started a new epoch yet.
        if epoch:
            if epoch.get("run") != server["run_id"]:
                return False
            self.unsettled = False
            floor = parse_stream_id(epoch.get("floor", ""))
            if floor is not None and after < floor:
                return False
        elif self.unsettled:
            return False
        # Beyond the last id ever generated: an id of a stream that no longer exists.
        last_generated = _entry_id(str(info["last-generated-id"]))
        if after > last_generated:
            return False
        # Trimming removes the oldest entries first: nothing after `after` is gone if `after`
        # is not older than the oldest entry kept.
        first = info.get("first-entry")
        if not first:
            if after != last_generated:
                return False
        elif after < _entry_id(str(first[0])):
            return False
        # The client's id is one of its own events, so it was in the user's index. An index
        # that no longer holds it (trimmed by count, or expired and started again) or no longer
        # exists (expired: no event for the user within the window's age) may miss some of the
        # user's entries after it.
        return bool(index_first) and _entry_id(str(index_first[0][0])) <= after

    async def replay(self, user_id: int, after: StreamId) -> AsyncIterator[tuple[StreamId, str]]:
        """`user_id`'s events after `after`, in order, as ready-to-send frames: a page of ids
        from the index, then just those entries. Raises EntryGone if one was trimmed since."""
        index = keys.user_index_key(self.name, user_id)
        lower = f"({after[0]}-{after[1]}"
        while True:
            raw_ids: Any = await self.redis.xrange(
                index, min=lower, max="+", count=self.replay_page_size
            )
            ids = [str(entry_id) for entry_id, _fields in raw_ids or ()]
            self.stats.entries_read += len(ids)
            for start in range(0, len(ids), FETCH_CHUNK):
                pipeline = self.redis.pipeline(transaction=False)
                for entry_id in ids[start : start + FETCH_CHUNK]:
                    pipeline.xrange(self.name, min=entry_id, max=entry_id)
                for raw in await pipeline.execute():
                    entries = _entries(raw)
                    if not entries:
                        raise EntryGone
                    self.stats.entries_read += 1
                    entry_id, fields = entries[0]
                    if "e" in fields:
                        yield _entry_id(entry_id), event_frame(entry_id, fields["e"])
            if len(ids) < self.replay_page_size:
                return
            lower = f"({ids[-1]}"

    async def _check_run(self, hub: Hub) -> None:
        """After (re)connecting: if Redis restarted, what this process had not read yet may be
        gone, so every socket gets `resync` (before anything read from here on). Reading goes
        on after the last entry seen: entries appended since the restart have larger ids."""
        server: Any = await self.redis.info("server")
        run_id = str(server["run_id"])
        previous, self.run_id = self.run_id, run_id
        if previous is None or previous == run_id:
            return
        logger.warning("Redis restarted (run %s); asking every socket to resync", run_id)
        self.unsettled = True
        hub.resync_all()

    def _dispatch(self, hub: Hub, raw_id: str, fields: dict[str, str]) -> None:
        if "e" in fields:
            hub.dispatch(_entry_id(raw_id), raw_id, fields["r"], fields["e"])
            return
        kind, message = control_kind(fields["c"])
        if kind == "epoch":
            logger.warning("new stream epoch from %s; asking every socket to resync", raw_id)
            self.unsettled = False
            hub.resync_all()
            return
        handler = self.control_handlers.get(kind)
        if handler is None:
            logger.error("no handler for control entry %s of kind %r", raw_id, kind)
            return
        handler(raw_id, message)

    async def follow(self, hub: Hub, start_after: str | None = None) -> None:
        """Deliver every entry after `start_after` (default: the tail) to the hub, forever.

        Survives Redis outages: it reconnects with backoff and goes on after the last entry
        seen, after a `resync` to everyone if Redis restarted meanwhile.
        """
        last = start_after
        delay = 0.1
        reconnected = True
        while True:
            try:
                if reconnected:
                    await self._check_run(hub)
                    reconnected = False
                if last is None:
                    last = await self.tail()
                response: Any = await self.redis.xread(
                    {self.name: last}, count=READ_COUNT, block=BLOCK_MS
                )
                for _stream, raw_entries in response or ():
                    for raw_id, fields in _entries(raw_entries):
                        last = raw_id
                        try:
                            self._dispatch(hub, raw_id, fields)
                        except (KeyError, ValueError):  # not written by our publisher
                            logger.error("skipping malformed stream entry %s", raw_id)
                delay = 0.1
            except redis_errors.RedisError as exc:
                hub.metrics.stream_errors.inc()
                logger.warning("event stream unreachable (%s); retrying in %.1fs", exc, delay)
                reconnected = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
