"""The per-team task clock behind the list's ETag, and the create's bookkeeping statement.

Every write to a team's tasks ticks one slot of the team's `TeamTaskClock` in its own
transaction; the list's ETag sums the slots. The tick is an upsert that locks its row until the
commit, so each service ticks in its last statement, and the slot is the database connection's
(its backend pid modulo `SLOTS`): concurrent writers of one team then rarely share a row, and
one connection's writes never wait for each other anyway.

`task_created_insert` writes a create — the task, its event, the `created` activity entry,
the first watchers and the tick — as one statement (data-modifying CTEs), so a create costs
one round trip for them instead of five, and no transaction of its own when nothing else is
written (bench/NOTES.md, "P2").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from django.db import connection
from django.utils import timezone

from taskflow_core.common.inserts import insert_plan, insert_values, inserted
from taskflow_core.events.models import OutboxEvent
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


def task_created_insert(
    *,
    task: Task,
    event_of: Callable[[Task], OutboxEvent],
    watcher_ids: Iterable[int | None],
) -> OutboxEvent:
    """Write a new task and what its creation needs, as one statement: the task, its
    `task.created` outbox row (`event_of(task)`, built once the task's timestamps are set; the
    statement fills in its `data["task"]["id"]`), the `created` activity entry, the first
    watchers (creator, assignee, mentioned members) and the team's tick. Returns the event;
    both rows get their `pk`.

    One statement is one round trip, and atomic by itself: a create with nothing else to
    write (no assignee to hold, no one to notify) needs no transaction of its own, so neither
    BEGIN nor COMMIT (bench/NOTES.md, "P2")."""
    task_values = insert_values(task)  # stamps created_at/updated_at, as save() would
    event = event_of(task)
    event_values = insert_values(event)
    if task_values is None or event_values is None:
        raise TypeError("a database-side default on Task or OutboxEvent: write them with save()")
    now = timezone.now()
    watchers = sorted({user_id for user_id in watcher_ids if user_id})
    params = [
        *task_values,
        *event_values,
        task.created_by_id,
        now,
        now,
        watchers,
        task.team_id,
        _slot(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_created_sql(), params)
        task_id, event_id = cursor.fetchone()
    inserted(task, task_id)
    inserted(event, event_id)
    event.data["task"]["id"] = task_id
    return event


@cache
def _created_sql() -> str:
    """`task_created_insert`'s statement, built once from the models' metadata (table and column
    names only, never input)."""
    task_plan, event_plan = insert_plan(Task), insert_plan(OutboxEvent)
    # The event's task id is the inserted task's.
    data = event_plan.columns.index(connection.ops.quote_name("data"))
    event_placeholders = list(event_plan.placeholders)
    event_placeholders[data] = (
        f"jsonb_set({event_placeholders[data]}, '{{task,id}}', to_jsonb(task.id))"
    )
    activity, watcher = TaskActivity._meta.db_table, TaskWatcher._meta.db_table
    return (
        f"WITH task AS (INSERT INTO {task_plan.table} ({', '.join(task_plan.columns)})"  # noqa: S608
        f" VALUES ({', '.join(task_plan.placeholders)}) RETURNING {task_plan.pk}),"
        f" event AS (INSERT INTO {event_plan.table} ({', '.join(event_plan.columns)})"
        f" SELECT {', '.join(event_placeholders)} FROM task RETURNING {event_plan.pk}),"
        f" activity AS (INSERT INTO {activity} (task_id, actor_id, verb, changes, created_at)"
        " SELECT task.id, %s, 'created', '{}'::jsonb, %s FROM task),"
        f" watchers AS (INSERT INTO {watcher} (task_id, user_id, created_at)"
        " SELECT task.id, user_id, %s FROM task, unnest(%s::bigint[]) AS user_id"
        " ON CONFLICT DO NOTHING),"
        f" tick AS ({_TICK})"
        " SELECT task.id, event.id FROM task, event"
    )
