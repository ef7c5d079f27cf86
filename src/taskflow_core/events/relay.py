"""The relay: publishes what the after-commit hook missed, and prunes old outbox rows.

It polls the partial index of unpublished rows (docs/events.md says why polling, not
LISTEN/NOTIFY) and backs off while Redis or PostgreSQL is unreachable, without ever giving up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from pydantic import ValidationError

from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.publishing import outbox_event_publish

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 5.0
REJECTED = "rejected"  # stream_id of a row that cannot be encoded (see `reject`)
PRUNE_EVERY_SECONDS = 60.0


@dataclass
class OutboxRelay:
    poll_seconds: float
    grace_seconds: float
    retention_seconds: float
    batch_size: int = 500
    stop: threading.Event = field(default_factory=threading.Event)
    _next_prune: float = 0.0

    def publish_pending(self) -> int:
        """Publish unpublished rows older than the grace period, oldest first."""
        cutoff = timezone.now() - timedelta(seconds=self.grace_seconds)
        rows = list(
            OutboxEvent.objects.filter(published_at__isnull=True, occurred_at__lte=cutoff).order_by(
                "id"
            )[: self.batch_size]
        )
        for row in rows:
            try:
                outbox_event_publish(event=row)
            except ValidationError:
                self.reject(row)
        if rows:
            logger.info("relay published %d outbox event(s)", len(rows))
        return len(rows)

    def reject(self, row: OutboxEvent) -> None:
        """A row that does not fit the event contract can never be published; retrying it
        forever would hold up every row behind it. Mark it, loudly, and move on."""
        logger.exception("outbox event %s does not fit the event contract; not published", row.pk)
        OutboxEvent.objects.filter(pk=row.pk).update(
            published_at=timezone.now(), stream_id=REJECTED
        )

    def prune(self) -> int:
        """Delete published rows past the retention (unpublished rows are never pruned)."""
        cutoff = timezone.now() - timedelta(seconds=self.retention_seconds)
        deleted, _ = OutboxEvent.objects.filter(published_at__lt=cutoff).delete()
        return deleted

    def run_once(self) -> int:
        published = self.publish_pending()
        if time.monotonic() >= self._next_prune:
            self.prune()
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        return published

    def run_forever(self) -> None:
        delay = self.poll_seconds
        while not self.stop.is_set():
            try:
                published = self.run_once()
            except (redis.RedisError, DatabaseError) as exc:
                logger.warning("relay: %s: %s; retrying in %.1fs", type(exc).__name__, exc, delay)
                close_old_connections()
                self.stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                continue
            delay = self.poll_seconds
            if published < self.batch_size:  # a full batch means more are waiting
                self.stop.wait(self.poll_seconds)
