"""Publishing outbox rows to the Redis event stream (layout and guarantees: docs/events.md).

One Lua script appends the event to the global stream and remembers the stream id under a
per-outbox-row key, atomically: publishing a row twice (the after-commit hook and the relay
racing, or a crash between the append and the database update) returns the first id and appends
nothing. So ids are stable across re-publishing and clients never see an event twice.
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from django.conf import settings
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

from taskflow_core.events.breaker import CircuitBreaker
from taskflow_core.events.models import OutboxEvent
from taskflow_events.codec import encode_event, event_from_dict

logger = logging.getLogger(__name__)

# KEYS: stream, marker. ARGV: event, recipients, maxlen, approximate, min id, marker ttl.
PUBLISH_LUA = """
local existing = redis.call('GET', KEYS[2])
if existing then return existing end
local id
if ARGV[4] == '1' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'r', ARGV[2], 'e', ARGV[1])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], '*', 'r', ARGV[2], 'e', ARGV[1])
end
if ARGV[5] ~= '0' then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[5])
end
redis.call('SET', KEYS[2], id, 'EX', ARGV[6])
return id
"""

# Approximate trimming works on whole 100-entry nodes, so it is only used for windows big enough
# that keeping up to ~100 extra entries does not matter; small windows are trimmed exactly.
APPROXIMATE_TRIM_FROM = 1000

# After a failed attempt, requests skip Redis for this long and leave their events to the relay,
# so an outage that shows up as timeouts (not refusals) cannot slow every request down.
SUSPEND_AFTER_FAILURE_SECONDS = 1.0
# The one breaker of this process's after-commit publishing (tests reset it between tests).
publish_breaker = CircuitBreaker(open_seconds=SUSPEND_AFTER_FAILURE_SECONDS)


@functools.lru_cache(maxsize=8)
def _publisher(url: str) -> tuple[redis.Redis, Script]:
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=0.5,
        socket_timeout=1.0,
        retry=Retry(NoBackoff(), 0),  # the relay retries; a request never waits for Redis
        health_check_interval=30,
    )
    return client, client.register_script(PUBLISH_LUA)


def event_text(event: OutboxEvent) -> str:
    """The outbox row as the contract's JSON (validated, so a malformed event fails here)."""
    return encode_event(
        event_from_dict(
            {
                "event": event.name,
                "occurred_at": event.occurred_at,
                "team": event.team_id,
                "actor": event.actor,
                "data": event.data,
            }
        )
    )


def published_marker_key(event: OutboxEvent) -> str:
    # The time part keeps markers of a recreated database (ids restart at 1) from matching.
    occurred_us = int(event.occurred_at.timestamp() * 1_000_000)
    return f"{settings.TASKFLOW_EVENT_STREAM}:published:{event.pk}:{occurred_us}"


def outbox_event_publish(*, event: OutboxEvent) -> str:
    """Append `event` to the stream (once, however often called); record and return its id."""
    client, script = _publisher(settings.REDIS_URL)
    maxlen = settings.TASKFLOW_EVENT_STREAM_MAXLEN
    max_age_ms = settings.TASKFLOW_EVENT_STREAM_MAX_AGE_SECONDS * 1000
    min_id = int(time.time() * 1000) - max_age_ms if max_age_ms > 0 else 0
    raw_id = script(
        keys=[settings.TASKFLOW_EVENT_STREAM, published_marker_key(event)],
        args=[
            event_text(event),
            ",".join(str(user_id) for user_id in event.recipients),
            maxlen,
            "1" if maxlen >= APPROXIMATE_TRIM_FROM else "0",
            min_id,
            settings.TASKFLOW_EVENT_PUBLISHED_TTL_SECONDS,
        ],
        client=client,
    )
    stream_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
    OutboxEvent.objects.filter(pk=event.pk, published_at__isnull=True).update(
        published_at=timezone.now(), stream_id=stream_id
    )
    event.stream_id = stream_id
    return stream_id


def publish_after_commit(event: OutboxEvent) -> None:
    """Publish a just-committed row; never raises into the request (the relay catches up)."""
    if publish_breaker.is_open:
        return
    try:
        outbox_event_publish(event=event)
    except Exception as exc:  # a failed publish must never turn a committed write into a 500
        publish_breaker.record_failure()
        logger.warning(
            "outbox event %s not published (%s: %s); the relay will publish it",
            event.pk,
            type(exc).__name__,
            exc,
        )
