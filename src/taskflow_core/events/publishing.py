"""Publishing outbox rows to the Redis event stream (layout and guarantees: docs/events.md).

One Lua script appends the event to the global stream, adds its id to each recipient's index,
and remembers the id under a per-outbox-row marker, atomically: publishing a row twice (the
after-commit hook and the relay racing, or the relay marking what the hook published) returns
the first id and appends nothing. So ids are stable across re-publishing and clients never see
an event twice.

The after-commit hook is that one script call and nothing else (no database write): the relay
records `published_at`/`stream_id` later, in batches. A task's events go out in version order:
the hook publishes one directly only when the previous version is already in the stream, and
otherwise leaves it to the relay, which publishes in outbox order.

Control messages (outbox rows named `control.<kind>`) go through the same script, in the
entry's `c` field instead of `e`; a revocation also raises the user's `revoked` cut-off, which
the realtime service reads at `auth` (docs/events.md "Control entries").
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import redis
from django.conf import settings
from pydantic import ValidationError
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.commands.core import Script
from redis.retry import Retry
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from taskflow_core.common.redis_guard import redis_guard
from taskflow_core.events.models import OutboxEvent
from taskflow_events import keys
from taskflow_events.codec import (
    EventTooLarge,
    control_from_dict,
    encode_control,
    encode_event_bounded,
    event_from_dict,
)
from taskflow_events.control import Revoke

logger = logging.getLogger(__name__)

# KEYS: stream, marker, task version key (the marker again for non-task events), revoked key
# (the marker again unless the entry revokes a user's tokens).
# ARGV: 1 event, 2 recipients, 3 stream maxlen, 4 approximate ('1'/'0'), 5 min id ('0' = none),
# 6 marker ttl, 7 index maxlen, 8 index approximate, 9 index ttl ('0' = none), 10 mode
# ('hook'/'relay'), 11 version the task key must hold for a direct publish ('' = not a task
# event), 12 version to record, 13 task key ttl, 14 entries to trim when refused, 15 the index
# key prefix (`<stream>:u:`; a recipient's index is that and the user id), 16 payload field
# (`e` an event, `c` a control message), 17 revoked-before (unix seconds; '' = not a
# revocation), 18 revoked key ttl.
# The index keys are built here rather than passed as KEYS: for a 5,000-member team, sending
# 5,000 key names cost ten times as much as writing the indexes. They carry the stream's `{...}`
# hash tag, so they live in its cluster slot all the same.
#
# Redis full (`maxmemory`, noeviction): the append is refused, and only the append: a script
# may grow memory only until its first write, and the append is the first. The script then
# trims the oldest REFUSED_TRIM_ENTRIES of the window (trimming is never refused), so that a
# stream that fills Redis makes room for new events at the expense of the oldest history, and
# answers with the error: the row stays in the outbox and the relay tries again
# (docs/events.md "Bounds"). Answer: {stream id, 1 if appended now}.
PUBLISH_LUA = """
local existing = redis.call('GET', KEYS[2])
local guarded = ARGV[11] ~= ''
local current = 0
if guarded then current = tonumber(redis.call('GET', KEYS[3]) or '0') end
if existing then
  if guarded and ARGV[10] == 'relay' and current < tonumber(ARGV[12]) then
    redis.call('SET', KEYS[3], ARGV[12], 'EX', ARGV[13])
  end
  return {existing, 0}
end
if guarded and ARGV[10] == 'hook' and current ~= tonumber(ARGV[11]) then
  return {'deferred', 0}
end
local id = redis.pcall('XADD', KEYS[1], '*', 'r', ARGV[2], ARGV[16], ARGV[1])
if type(id) == 'table' then
  local length = redis.call('XLEN', KEYS[1])
  if length > 0 then
    redis.call('XTRIM', KEYS[1], 'MAXLEN', math.max(0, length - tonumber(ARGV[14])))
  end
  return id
end
if ARGV[4] == '1' then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[3])
else
  redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[3])
end
if ARGV[5] ~= '0' then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[5])
end
for user in string.gmatch(ARGV[2], '[^,]+') do
  local index = ARGV[15] .. user
  local added
  if ARGV[8] == '1' then
    added = redis.pcall('XADD', index, 'MAXLEN', '~', ARGV[7], id, 'p', '1')
  else
    added = redis.pcall('XADD', index, 'MAXLEN', ARGV[7], id, 'p', '1')
  end
  if type(added) == 'table' and added.err then
    -- An index with a later id than the stream's (only if someone deleted the stream by hand)
    -- would refuse every append from now on: start it again.
    redis.call('DEL', index)
    redis.call('XADD', index, id, 'p', '1')
  end
  if ARGV[9] ~= '0' then redis.call('EXPIRE', index, ARGV[9]) end
end
if guarded and current < tonumber(ARGV[12]) then
  redis.call('SET', KEYS[3], ARGV[12], 'EX', ARGV[13])
end
redis.call('SET', KEYS[2], id, 'EX', ARGV[6])
if ARGV[17] ~= '' then
  -- Never lower the cut-off: the relay may publish an older revocation after a newer one.
  local cutoff = redis.call('GET', KEYS[4])
  if not cutoff or tonumber(cutoff) < tonumber(ARGV[17]) then
    redis.call('SET', KEYS[4], ARGV[17], 'EX', ARGV[18])
  end
end
return {id, 1}
"""

REFUSED_TRIM_ENTRIES = 100
DEFERRED = "deferred"  # the script's answer when a task event must wait for its predecessor

# Approximate trimming works on whole 100-entry nodes, so it is only used for windows big enough
# that keeping up to ~100 extra entries does not matter; small windows are trimmed exactly.
APPROXIMATE_TRIM_FROM = 1000

# The relay's own timeouts: it is a background loop, so it may wait longer than a request.
RELAY_TIMEOUT_SECONDS = 2.0

# The script's work grows with the recipients (an index entry each, docs/events.md "Layout"):
# a request's publish of more than this many index entries may wait this many times one
# operation's timeout (docs/reliability.md).
LARGE_FANOUT_RECIPIENTS = 1000
LARGE_FANOUT_TIMEOUT_FACTOR = 4

Mode = Literal["hook", "relay"]


@functools.lru_cache(maxsize=8)
def _publisher(url: str, timeout: float) -> tuple[redis.Redis, Script]:
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # the relay retries; a request never waits for Redis
        health_check_interval=30,
    )
    return client, client.register_script(PUBLISH_LUA)


def publisher_client() -> redis.Redis:
    return _publisher(settings.REDIS_URL, RELAY_TIMEOUT_SECONDS)[0]


CONTROL_PREFIX = "control."  # outbox rows named `control.<kind>` are control messages


def is_control(event: OutboxEvent) -> bool:
    return event.name.startswith(CONTROL_PREFIX)


def revoked_key(user_id: int) -> str:
    """`<stream>:revoked:<user>` = the latest revocation cut-off (unix seconds), read by the
    realtime service at `auth`; it lives as long as an access token (docs/events.md)."""
    return keys.revoked_key(settings.TASKFLOW_EVENT_STREAM, user_id)


def event_text(event: OutboxEvent) -> str:
    """The outbox row as the contract's JSON (an event, or a control message): validated (a
    malformed row fails here, with pydantic's ValidationError) and bounded (EventTooLarge past
    the frame limit)."""
    if is_control(event):
        return encode_control(control_from_dict(event.data))
    return encode_event_bounded(
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
    return marker_key(event.pk, event.occurred_at)


def marker_key(outbox_id: int, occurred_at: datetime) -> str:
    """Where the script remembers the stream id of outbox row `outbox_id`."""
    occurred_us = int(occurred_at.timestamp() * 1_000_000)
    return keys.published_marker_key(settings.TASKFLOW_EVENT_STREAM, outbox_id, occurred_us)


@dataclass(frozen=True)
class TaskOrder:
    """What the script checks and records to keep one task's events in version order."""

    task_id: int
    expected: int  # the task key's value that lets the hook publish directly (0 = no key)
    version: int  # recorded once the event is in the stream


def task_order(event: OutboxEvent) -> TaskOrder | None:
    """For a `task.*` event with a version (all but deletions written before it had one)."""
    task = event.data.get("task") if event.name.startswith("task.") else None
    if not isinstance(task, dict):
        return None
    task_id, version = task.get("id"), task.get("version")
    if not isinstance(task_id, int) or not isinstance(version, int):
        return None
    if event.name == "task.created":
        return TaskOrder(task_id, expected=0, version=version)
    if event.name == "task.deleted":  # carries the version it deleted: follows that update
        return TaskOrder(task_id, expected=version, version=version)
    return TaskOrder(task_id, expected=version - 1, version=version)


def _window_seconds() -> int:
    age: int = settings.TASKFLOW_EVENT_STREAM_MAX_AGE_SECONDS
    return age if age > 0 else settings.TASKFLOW_EVENT_PUBLISHED_TTL_SECONDS


def publish_args(event: OutboxEvent, text: str, mode: Mode) -> tuple[list[str], list[Any]]:
    stream = settings.TASKFLOW_EVENT_STREAM
    maxlen: int = settings.TASKFLOW_EVENT_STREAM_MAXLEN
    index_maxlen: int = settings.TASKFLOW_EVENT_USER_INDEX_MAXLEN
    max_age: int = settings.TASKFLOW_EVENT_STREAM_MAX_AGE_SECONDS
    min_id = int(time.time() * 1000) - max_age * 1000 if max_age > 0 else 0
    marker = published_marker_key(event)
    order = task_order(event)
    revoke = _revocation(event)
    recipients = [str(user_id) for user_id in event.recipients]
    script_keys = [
        stream,
        marker,
        keys.task_version_key(stream, order.task_id) if order else marker,
        revoked_key(revoke.user) if revoke else marker,
    ]
    args = [
        text,
        ",".join(recipients),
        maxlen,
        "1" if maxlen >= APPROXIMATE_TRIM_FROM else "0",
        min_id,
        settings.TASKFLOW_EVENT_PUBLISHED_TTL_SECONDS,
        index_maxlen,
        "1" if index_maxlen >= APPROXIMATE_TRIM_FROM else "0",
        max_age,  # an index outlives its user's newest entry by the window's age
        mode,
        "" if order is None else order.expected,
        0 if order is None else order.version,
        _window_seconds(),
        REFUSED_TRIM_ENTRIES,
        keys.user_index_key(stream, ""),
        "c" if is_control(event) else "e",
        "" if revoke is None else revoke.before,
        max(int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()), 1),
    ]
    return script_keys, args


def _revocation(event: OutboxEvent) -> Revoke | None:
    if not is_control(event):
        return None
    control = control_from_dict(event.data)
    return control if isinstance(control, Revoke) else None


def redis_text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def publish_answer(raw: Any) -> tuple[str | None, bool]:
    """The script's answer: (stream id, or None when deferred; whether it was appended now)."""
    stream_id, appended = redis_text(raw[0]), bool(int(raw[1]))
    return (None if stream_id == DEFERRED else stream_id), appended


def outbox_event_publish(
    *, event: OutboxEvent, mode: Mode = "relay", timeout: float = RELAY_TIMEOUT_SECONDS
) -> str | None:
    """Append `event` to the stream (once, however often called) and return its stream id.
    `timeout` bounds the connect and the script's answer (each; no retries).

    `mode="hook"`: a task event whose predecessor is not in the stream yet is not appended;
    the answer is None and the relay publishes it in order. Nothing is written to PostgreSQL
    here: the relay records published rows in batches (`OutboxRelay.publish_pending`).
    """
    client, script = _publisher(settings.REDIS_URL, timeout)
    script_keys, args = publish_args(event, event_text(event), mode)
    stream_id, _appended = publish_answer(script(keys=script_keys, args=args, client=client))
    return stream_id


def queue_publish(pipeline: Pipeline, event: OutboxEvent, text: str) -> None:
    """Queue the relay's publish of `event` on `pipeline` (read its answer with
    `publish_answer`)."""
    _client, script = _publisher(settings.REDIS_URL, RELAY_TIMEOUT_SECONDS)
    script_keys, args = publish_args(event, text, "relay")
    script(keys=script_keys, args=args, client=pipeline)


def publish_many_after_commit(events: list[OutboxEvent]) -> None:
    """`publish_after_commit` for rows written together (a member's removal unassigning
    thousands of tasks): one pipeline of the script in hook mode, one round trip. Rows it
    defers or misses are the relay's, which also records them all. Within the request's Redis
    budget (common/redis_guard.py)."""
    if not events or not redis_guard.permits():
        return
    timeout = hook_timeout(sum(len(event.recipients) for event in events))
    client, script = _publisher(settings.REDIS_URL, timeout)
    try:
        with redis_guard.waiting(), client.pipeline(transaction=False) as pipe:
            for event in events:
                script_keys, args = publish_args(event, event_text(event), "hook")
                script(keys=script_keys, args=args, client=pipe)
            pipe.execute()
    except (ValidationError, EventTooLarge) as exc:
        logger.error("outbox events cannot be published (%s); the relay sets them aside", exc)
    except redis.RedisError as exc:
        redis_guard.failed(f"publishing {len(events)} outbox events", exc)
    except Exception as exc:  # never a 500 for a committed write
        logger.warning(
            "%d outbox events not published (%s: %s); the relay will publish them",
            len(events),
            type(exc).__name__,
            exc,
        )


def hook_timeout(recipients: int) -> float:
    """The timeout of a request's publish of `recipients` index entries: one operation's, or
    `LARGE_FANOUT_TIMEOUT_FACTOR` times it past `LARGE_FANOUT_RECIPIENTS`. A 5,000-member
    team's event took 15 to 40 ms of Redis here, and 75 ms when its 5,000 indexes were new: one
    operation's 25 ms timed out, and the event, with the process's next ones while its breaker
    was open, went the relay's way, hundreds of milliseconds later (bench/NOTES.md, "P4")."""
    if recipients > LARGE_FANOUT_RECIPIENTS:
        return redis_guard.op_timeout * LARGE_FANOUT_TIMEOUT_FACTOR
    return redis_guard.op_timeout


def publish_after_commit(event: OutboxEvent) -> None:
    """Publish a just-committed row within the request's Redis budget (common/redis_guard.py);
    never raises into the request: whatever is not published here, the relay publishes."""
    if not redis_guard.permits():
        return
    try:
        with redis_guard.waiting():
            timeout = hook_timeout(len(event.recipients))
            outbox_event_publish(event=event, mode="hook", timeout=timeout)
    except (ValidationError, EventTooLarge) as exc:  # Redis is fine: no reason to skip it
        logger.error(
            "outbox event %s cannot be published (%s); the relay sets it aside", event.pk, exc
        )
    except redis.RedisError as exc:
        redis_guard.failed(f"publishing outbox event {event.pk}", exc)
    except Exception as exc:  # a failed publish must never turn a committed write into a 500
        logger.warning(
            "outbox event %s not published (%s: %s); the relay will publish it",
            event.pk,
            type(exc).__name__,
            exc,
        )
