"""Publishing outbox rows to Redis (filled in by the real-time delivery work)."""

from __future__ import annotations


def publish_after_commit(event_id: int) -> None:
    """Publish one committed outbox row; the relay catches whatever this misses."""
