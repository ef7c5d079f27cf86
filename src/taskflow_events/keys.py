"""Redis key names shared by the publisher (core) and the reader (realtime service).

Every key starts with the stream's name, so they all carry its `{...}` hash tag and live in one
cluster slot (a Lua script may touch them together). Layout: docs/events.md "Layout".
"""

from __future__ import annotations


def user_index_key(stream: str, user_id: int | str) -> str:
    """The per-user index: one entry per event for that user, with the event's global id."""
    return f"{stream}:u:{user_id}"


def epoch_key(stream: str) -> str:
    """Hash {id, floor, run}: the stream's current epoch (docs/events.md "Epoch")."""
    return f"{stream}:epoch"


def task_version_key(stream: str, task_id: int) -> str:
    """The last version of a task that is in the stream (orders a task's events)."""
    return f"{stream}:taskver:{task_id}"


def published_marker_key(stream: str, outbox_id: int, occurred_us: int) -> str:
    """ "Outbox row N is in the stream as id X" (the time part keeps the markers of a recreated
    database, whose row ids restart at 1, from matching)."""
    return f"{stream}:published:{outbox_id}:{occurred_us}"


def revoked_key(stream: str, user_id: int | str) -> str:
    """The user's revocation cut-off (unix seconds): access tokens issued before it are refused
    (set by the publisher with the `revoke` control entry, read by realtime at `auth`)."""
    return f"{stream}:revoked:{user_id}"


def user_sockets_key(stream: str, user_id: int | str) -> str:
    """Sorted set of the user's open sockets on every realtime process (the per-user cap),
    scored with the time each lapses unless its process renews it."""
    return f"{stream}:sockets:{user_id}"
