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
from django.db import connection
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from taskflow_core.events.breaker import CircuitBreaker
from taskflow_core.events.models import OutboxEvent
from taskflow_events.codec import (
    control_from_dict,
    encode_control,
    encode_event,
    event_from_dict,
)
from taskflow_events.control import Revoke

logger = logging.getLogger(__name__)

# KEYS: stream, marker, revoked-key. ARGV: payload, recipients, maxlen, approximate, min id,
# marker ttl, payload field (`e` an event, `c` a control message), revoked-before (unix seconds,
# '' unless the entry revokes a user's tokens), revoked-key ttl.
PUBLISH_LUA = """
local existing = redis.call('GET', KEYS[2])
if existing then return existing end
local id
if ARGV[4] == '1' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'r', ARGV[2], ARGV[7], ARGV[1])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], '*', 'r', ARGV[2], ARGV[7], ARGV[1])
end
if ARGV[5] ~= '0' then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[5])
end
redis.call('SET', KEYS[2], id, 'EX', ARGV[6])
if ARGV[8] ~= '' then
  -- Never lower the cut-off: the relay may publish an older revocation after a newer one.
  local current = redis.call('GET', KEYS[3])
  if not current or tonumber(current) < tonumber(ARGV[8]) then
    redis.call('SET', KEYS[3], ARGV[8], 'EX', ARGV[9])
  end
end
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


CONTROL_PREFIX = "control."  # outbox rows named `control.<kind>` are control messages


def is_control(event: OutboxEvent) -> bool:
    return event.name.startswith(CONTROL_PREFIX)


def revoked_key(user_id: int) -> str:
    """`<stream>:revoked:<user>` = the latest revocation cut-off (unix seconds), read by the
    realtime service at `auth`; it lives as long as an access token (docs/events.md)."""
    return f"{settings.TASKFLOW_EVENT_STREAM}:revoked:{user_id}"


def _payload(event: OutboxEvent) -> tuple[str, str, Revoke | None]:
    """(stream field, text, revocation) for an outbox row; validated against the contract."""
    if is_control(event):
        control = control_from_dict(event.data)
        return "c", encode_control(control), control if isinstance(control, Revoke) else None
    return "e", event_text(event), None


def published_marker_key(event: OutboxEvent) -> str:
    # The time part keeps markers of a recreated database (ids restart at 1) from matching.
    occurred_us = int(event.occurred_at.timestamp() * 1_000_000)
    return f"{settings.TASKFLOW_EVENT_STREAM}:published:{event.pk}:{occurred_us}"


def _script_call(event: OutboxEvent) -> tuple[list[str], list[str | int]]:
    """The script's KEYS and ARGV for publishing `event`."""
    maxlen = settings.TASKFLOW_EVENT_STREAM_MAXLEN
    max_age_ms = settings.TASKFLOW_EVENT_STREAM_MAX_AGE_SECONDS * 1000
    min_id = int(time.time() * 1000) - max_age_ms if max_age_ms > 0 else 0
    field, text, revoke = _payload(event)
    access_seconds = int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())
    keys = [
        settings.TASKFLOW_EVENT_STREAM,
        published_marker_key(event),
        revoked_key(revoke.user if revoke else 0),
    ]
    args: list[str | int] = [
        text,
        ",".join(str(user_id) for user_id in event.recipients),
        maxlen,
        "1" if maxlen >= APPROXIMATE_TRIM_FROM else "0",
        min_id,
        settings.TASKFLOW_EVENT_PUBLISHED_TTL_SECONDS,
        field,
        str(revoke.before) if revoke else "",
        max(access_seconds, 1),
    ]
    return keys, args


def _text(raw_id: object) -> str:
    return raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)


def outbox_event_publish(*, event: OutboxEvent) -> str:
    """Append `event` to the stream (once, however often called); record and return its id."""
    client, script = _publisher(settings.REDIS_URL)
    keys, args = _script_call(event)
    stream_id = _text(script(keys=keys, args=args, client=client))
    OutboxEvent.objects.filter(pk=event.pk, published_at__isnull=True).update(
        published_at=timezone.now(), stream_id=stream_id
    )
    event.stream_id = stream_id
    return stream_id


def outbox_events_publish(*, events: list[OutboxEvent]) -> list[str]:
    """`outbox_event_publish` for many rows at once, in order: one Redis round trip (a
    pipeline of the same script) and one UPDATE, for bulk changes such as a member's removal
    unassigning thousands of tasks."""
    if not events:
        return []
    client, script = _publisher(settings.REDIS_URL)
    with client.pipeline(transaction=False) as pipe:
        for event in events:
            keys, args = _script_call(event)
            script(keys=keys, args=args, client=pipe)
        stream_ids = [_text(raw_id) for raw_id in pipe.execute()]
    now = timezone.now()
    for event, stream_id in zip(events, stream_ids, strict=True):
        event.stream_id, event.published_at = stream_id, now
    # One UPDATE joined to the ids (bulk_update's CASE per row costs seconds for thousands).
    table = OutboxEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET published_at = %s, stream_id = batch.stream_id"  # noqa: S608
            " FROM unnest(%s::bigint[], %s::text[]) AS batch(id, stream_id)"
            f" WHERE {table}.id = batch.id AND {table}.published_at IS NULL",
            [now, [event.pk for event in events], stream_ids],
        )
    return stream_ids


def publish_many_after_commit(events: list[OutboxEvent]) -> None:
    """`publish_after_commit` for rows written together; the relay publishes any it misses."""
    if publish_breaker.is_open:
        return
    try:
        outbox_events_publish(events=events)
    except Exception as exc:  # never a 500 for a committed write
        publish_breaker.record_failure()
        logger.warning(
            "%d outbox events not published (%s: %s); the relay will publish them",
            len(events),
            type(exc).__name__,
            exc,
        )


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
