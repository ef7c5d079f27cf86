"""The relay: publishes what the after-commit hook did not, records what is in the stream, and
prunes old outbox rows.

It polls the partial index of unrecorded rows (docs/events.md says why polling, not
LISTEN/NOTIFY), checks the stream's epoch before anything else, and backs off (at most a
second, so it notices Redis's return at once) while Redis or PostgreSQL is unreachable, without
ever giving up.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from pydantic import ValidationError

from taskflow_core.events.epoch import stream_epoch_read, stream_epoch_start
from taskflow_core.events.models import OutboxEvent, RelayHeartbeat
from taskflow_core.events.publishing import (
    event_text,
    marker_key,
    publish_answer,
    publisher_client,
    queue_publish,
    redis_text,
)
from taskflow_events.codec import EventTooLarge

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 1.0
REJECTED = "rejected"  # stream_id of a row that cannot be encoded (see `reject`)
SUPERSEDED = "superseded"  # stream_id of a row a new epoch's `resync` covers (see `epoch_check`)
PRUNE_EVERY_SECONDS = 60.0
HEARTBEAT_EVERY_SECONDS = 5.0
# Heartbeat rows of relays that stopped beating this long ago are deleted.
FORGET_RELAY_AFTER = timedelta(days=7)


_OUTBOX = OutboxEvent._meta.db_table
# Model metadata only (the table's name), never input.
_RECORD_SQL = (
    f"UPDATE {_OUTBOX} AS outbox SET published_at = %s, stream_id = recorded.stream_id"  # noqa: S608
    " FROM unnest(%s::bigint[], %s::text[]) AS recorded(id, stream_id)"
    " WHERE outbox.id = recorded.id AND outbox.published_at IS NULL"
)


def _record(stream_ids: dict[int, str]) -> None:
    """Mark these rows published, each with its stream id: one statement."""
    if not stream_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL, [timezone.now(), list(stream_ids), list(stream_ids.values())])


@dataclass
class OutboxRelay:
    poll_seconds: float
    grace_seconds: float
    retention_seconds: float
    batch_size: int = 500
    stop: threading.Event = field(default_factory=threading.Event)
    heartbeat_seconds: float = HEARTBEAT_EVERY_SECONDS
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    published_total: int = 0
    failures_total: int = 0
    _next_prune: float = 0.0
    _next_heartbeat: float = 0.0
    _started_at: datetime = field(default_factory=timezone.now)
    _run_seen: str | None = None  # the Redis run this relay last published into

    def publish_pending(self) -> int:
        """Publish, oldest first, the unrecorded rows older than the grace period, and record
        them all as published. Returns the number of rows handled.

        Most are in the stream already (the after-commit hook put them there), so the relay
        first asks Redis for their markers, one MGET for the whole batch, and records those
        without loading, encoding or publishing them again; only rows without a marker are
        loaded whole and go through the (idempotent) script. Recording is one UPDATE. Before,
        every row was re-encoded and re-published, and recorded by the ORM's `bulk_update`:
        about 3 ms of CPU per event on this tier, on the same cores as the API (bench/NOTES.md,
        "The relay's bookkeeping")."""
        cutoff = timezone.now() - timedelta(seconds=self.grace_seconds)
        pending = list(
            OutboxEvent.objects.filter(published_at__isnull=True, occurred_at__lte=cutoff)
            .order_by("id")
            .values_list("id", "occurred_at")[: self.batch_size]
        )
        if not pending:
            return 0
        client = publisher_client()
        markers = client.mget([marker_key(row_id, occurred_at) for row_id, occurred_at in pending])
        stream_ids = {
            row_id: redis_text(marker)
            for (row_id, _), marker in zip(pending, markers, strict=True)
            if marker is not None
        }
        missing = [row_id for row_id, _ in pending if row_id not in stream_ids]
        failure: Exception | None = None
        if missing:
            failure = self._publish(missing, stream_ids)
        _record(stream_ids)
        if failure is not None:
            raise failure
        return len(pending)

    def _publish(self, row_ids: list[int], stream_ids: dict[int, str]) -> Exception | None:
        """Publish these rows in id order (adding each one's stream id to `stream_ids`); the
        first error is returned, not raised at once, so that the rows before it are recorded."""
        rows = list(OutboxEvent.objects.filter(pk__in=row_ids).order_by("id"))
        encoded: list[OutboxEvent] = []
        pipeline = publisher_client().pipeline(transaction=False)
        for row in rows:
            try:
                text = event_text(row)
            except (ValidationError, EventTooLarge):
                self.reject(row)
                continue
            queue_publish(pipeline, row, text)
            encoded.append(row)
        # In order, one round trip; an error (Redis full, say) is kept for the caller.
        answers = pipeline.execute(raise_on_error=False) if encoded else []
        appended = 0
        failure: Exception | None = None
        for row, answer in zip(encoded, answers, strict=True):
            if isinstance(answer, Exception):
                failure = failure or answer
                continue
            stream_id, new = publish_answer(answer)
            assert stream_id is not None  # the relay's publish is never deferred
            stream_ids[row.pk] = stream_id
            appended += new
        self.published_total += appended
        if appended:
            logger.info("relay published %d outbox event(s)", appended)
        return failure

    def reject(self, row: OutboxEvent) -> None:
        """A row that does not fit the event contract (or would make a frame over the limit)
        can never be published; retrying it forever would hold up every row behind it. Mark it,
        loudly, and move on."""
        logger.exception("outbox event %s cannot be published; set aside", row.pk)
        OutboxEvent.objects.filter(pk=row.pk).update(
            published_at=timezone.now(), stream_id=REJECTED
        )

    def prune(self) -> int:
        """Delete published rows past the retention (unpublished rows are never pruned)."""
        cutoff = timezone.now() - timedelta(seconds=self.retention_seconds)
        deleted, _ = OutboxEvent.objects.filter(published_at__lt=cutoff).delete()
        return deleted

    def epoch_check(self) -> None:
        """Start a new epoch if Redis restarted since the current one (docs/events.md "Epoch").

        History may have been lost when the epoch belongs to another run, or there is none
        although this relay, or the outbox, knows that a stream existed. Then every row not
        recorded yet is superseded rather than published: each was committed before the epoch
        entry that is appended next, so every client reads it from REST after its `resync`.
        Publishing them would only repeat, after the `resync`, events the client already has
        (the hook had put most of them in the lost stream) or has just re-read, and an outage
        of an hour would flood every socket with that hour at once."""
        client = publisher_client()
        state = stream_epoch_read(client)
        if state.current:
            self._run_seen = state.run_id
            return
        lost = (
            state.recorded_run is not None
            or self._run_seen is not None
            or OutboxEvent.objects.filter(published_at__isnull=False)
            .exclude(stream_id__in=(REJECTED, SUPERSEDED))
            .exists()
        )
        if lost:
            superseded = OutboxEvent.objects.filter(published_at__isnull=True).update(
                published_at=timezone.now(), stream_id=SUPERSEDED
            )
            if superseded:
                logger.warning(
                    "relay: %d outbox event(s) not published: the new epoch's resync covers them",
                    superseded,
                )
        stream_epoch_start(client, state, lost=lost)
        self._run_seen = state.run_id

    def run_once(self) -> int:
        # The epoch first: nothing is published into a Redis that lost history before the
        # control entry that tells clients so.
        self.epoch_check()
        published = self.publish_pending()
        if time.monotonic() >= self._next_prune:
            self.prune()
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        return published

    def heartbeat(self) -> None:
        """Record that this relay is alive (and its counters); PostgreSQL only."""
        now = timezone.now()
        RelayHeartbeat.objects.update_or_create(
            name=self.name,
            defaults={
                "started_at": self._started_at,
                "beat_at": now,
                "published_total": self.published_total,
                "failures_total": self.failures_total,
            },
        )
        RelayHeartbeat.objects.filter(beat_at__lt=now - FORGET_RELAY_AFTER).delete()

    def _heartbeat_due(self) -> None:
        if time.monotonic() < self._next_heartbeat:
            return
        try:
            self.heartbeat()
        except DatabaseError as exc:
            logger.warning("relay: heartbeat not recorded (%s)", exc)
            close_old_connections()
        self._next_heartbeat = time.monotonic() + self.heartbeat_seconds

    def run_forever(self) -> None:
        delay = self.poll_seconds
        while not self.stop.is_set():
            self._heartbeat_due()  # also while Redis is down: the relay is alive and waiting
            try:
                published = self.run_once()
            except (redis.RedisError, DatabaseError) as exc:
                self.failures_total += 1
                logger.warning("relay: %s: %s; retrying in %.1fs", type(exc).__name__, exc, delay)
                close_old_connections()
                self.stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                continue
            delay = self.poll_seconds
            if published < self.batch_size:  # a full batch means more are waiting
                self.stop.wait(self.poll_seconds)
