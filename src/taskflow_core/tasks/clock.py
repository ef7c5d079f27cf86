"""The per-team task clock behind the list's ETag, and the create's bookkeeping statement.

Every write to a team's tasks ticks one slot of the team's `TeamTaskClock` in its own
transaction; the list's ETag sums the slots. The tick is an upsert that locks its row until the
commit, so each service ticks in its last statement, and the slot is the database connection's
(its backend pid modulo `SLOTS`): concurrent writers of one team then rarely share a row, and
one connection's writes never wait for each other anyway.

`task_created_record` writes what a create needs besides the task and its event — the
`created` activity entry, the first watchers and the tick — as one statement (three
data-modifying CTEs), so a create costs one round trip for them instead of three
(bench/NOTES.md, "P2").
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from taskflow_core.tasks.models import Task, TaskActivity, TaskWatcher, TeamTaskClock

SLOTS = 16
_CLOCK = TeamTaskClock._meta.db_table
_TICK = (
    f"INSERT INTO {_CLOCK} (team_id, slot, ticks) VALUES (%s, %s, 1) "  # noqa: S608 (names)
    f"ON CONFLICT (team_id, slot) DO UPDATE SET ticks = {_CLOCK}.ticks + 1"
)


def _slot() -> int:
    connection.ensure_connection()
    return int(connection.connection.info.backend_pid) % SLOTS


def team_task_clock_tick(*, team_id: int) -> None:
    """The team's tasks changed; call inside the changing transaction, last."""
    with connection.cursor() as cursor:
        cursor.execute(_TICK, [team_id, _slot()])


def task_created_record(*, task: Task, watcher_ids: Iterable[int | None]) -> None:
    """The `created` activity entry by the task's creator, its first watchers (creator,
    assignee, mentioned members) and the team's tick, in one statement."""
    activity, watcher = TaskActivity._meta.db_table, TaskWatcher._meta.db_table
    now = timezone.now()
    watchers = sorted({user_id for user_id in watcher_ids if user_id})
    sql = (
        f"WITH activity AS (INSERT INTO {activity} (task_id, actor_id, verb, changes, created_at)"  # noqa: S608
        " VALUES (%s, %s, 'created', '{}'::jsonb, %s)),"
        f" watchers AS (INSERT INTO {watcher} (task_id, user_id, created_at)"
        " SELECT %s, user_id, %s FROM unnest(%s::bigint[]) AS user_id ON CONFLICT DO NOTHING) "
        + _TICK
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [task.pk, task.created_by_id, now, task.pk, now, watchers, task.team_id, _slot()]
        )
