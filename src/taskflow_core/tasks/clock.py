"""The per-team task clock behind the list's ETag, and the create's bookkeeping statement.

Every write to a team's tasks ticks one slot of the team's `TeamTaskClock` in its own
transaction; the list's ETag sums the slots. The tick is an upsert that locks its row until the
commit, so each service ticks in its last statement, and the slot is the database connection's
(its backend pid modulo `SLOTS`): concurrent writers of one team then rarely share a row, and
one connection's writes never wait for each other anyway.

`task_created_insert` writes a create — the task, its event, the `created` activity entry,
the first watchers and the tick — as one statement (data-modifying CTEs), so a create costs
one round trip for them instead of five, and no transaction of its own when nothing else is
written. The same statement reads the team's members: they are the event's recipients, and
the check that the creator is one of them (bench/NOTES.md, "P2"). It also reads the creator:
their username is the event's actor, and, for a creator known only by their access token
(`accounts.authentication.TokenBearer`), the check that they may act (the row exists, is
active, and the token is not revoked), made in the same snapshot as the write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from django.db import connection
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.common.inserts import insert_plan, insert_values, inserted
from taskflow_core.common.prepared import prepared_cursor
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task, TaskActivity, TaskWatcher, TeamTaskClock
from taskflow_core.teams.models import Membership

SLOTS = 16
_CLOCK = TeamTaskClock._meta.db_table
_TICKED = f"ON CONFLICT (team_id, slot) DO UPDATE SET ticks = {_CLOCK}.ticks + 1"
_TICK = f"INSERT INTO {_CLOCK} (team_id, slot, ticks) VALUES (%s, %s, 1) {_TICKED}"  # noqa: S608


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
    member_id: int | None,
    token_issued_at: int | None = None,
) -> OutboxEvent | None:
    """Write a new task and what its creation needs, as one statement: the task, its
    `task.created` outbox row (`event_of(task)`, built once the task's timestamps are set; the
    statement fills in its `data["task"]["id"]` and its recipients, the team's members), the
    `created` activity entry, the first watchers (creator, assignee, mentioned members) and
    the team's tick. Returns the event, or None, having written nothing, when `member_id` is
    not a member of the team (None: no such check); both rows get their `pk`, the event its
    actor (the creator's id and username, read here).

    `token_issued_at`: the creator is known by an access token issued then, not checked yet.
    Nothing is written, and `CreatorMayNotAct` is raised, unless they may act.

    One statement is one round trip, and atomic by itself: a create with nothing else to
    write (no assignee to hold, no one to notify) needs no transaction of its own, so neither
    BEGIN nor COMMIT (bench/NOTES.md, "P2")."""
    task_values = insert_values(task)  # stamps created_at/updated_at, as save() would
    event = event_of(task)
    event_values = insert_values(event)
    if task_values is None or event_values is None:
        raise TypeError("a database-side default on Task or OutboxEvent: write them with save()")
    for index in sorted(_statement_columns(), reverse=True):
        del event_values[index]  # the statement's: the team's members, the creator
    now = timezone.now()
    watchers = sorted({user_id for user_id in watcher_ids if user_id})
    params = [
        task.team_id,
        task.created_by_id,
        token_issued_at,
        token_issued_at,
        *task_values,
        member_id,
        member_id,
        *event_values,
        task.created_by_id,
        now,
        now,
        watchers,
        task.team_id,
        _slot(),
    ]
    with prepared_cursor() as cursor:  # parsed and planned once per connection
        cursor.execute(_created_sql(), params)
        task_id, event_id, member_ids, username = cursor.fetchone()
    if username is None:
        raise CreatorMayNotAct(task.created_by_id)
    if task_id is None:
        return None
    inserted(task, task_id)
    inserted(event, event_id)
    event.data["task"]["id"] = task_id
    event.recipients = member_ids
    event.actor = {"id": task.created_by_id, "username": username}
    return event


class CreatorMayNotAct(Exception):
    """The statement found that a creator known by their token may not act (gone, inactive, or
    the token revoked): nothing was written. Ask the authentication why (a 401)."""


@cache
def _recipients_index() -> int:
    return insert_plan(OutboxEvent).columns.index(connection.ops.quote_name("recipients"))


@cache
def _actor_index() -> int:
    return insert_plan(OutboxEvent).columns.index(connection.ops.quote_name("actor"))


def _statement_columns() -> tuple[int, int]:
    """The event's columns the statement fills itself."""
    return _recipients_index(), _actor_index()


@cache
def _created_sql() -> str:
    """`task_created_insert`'s statement, built once from the models' metadata (table and column
    names only, never input)."""
    task_plan, event_plan = insert_plan(Task), insert_plan(OutboxEvent)
    quote = connection.ops.quote_name
    # The event's task id is the inserted task's, its recipients the members read here.
    event_placeholders = list(event_plan.placeholders)
    data = event_plan.columns.index(quote("data"))
    event_placeholders[data] = (
        f"jsonb_set({event_placeholders[data]}, '{{task,id}}', to_jsonb(task.id))"
    )
    event_placeholders[_recipients_index()] = "members.ids"
    event_placeholders[_actor_index()] = (
        "jsonb_build_object('id', creator.id, 'username', creator.username)"
    )
    activity, watcher = TaskActivity._meta.db_table, TaskWatcher._meta.db_table
    user = User._meta
    membership = Membership._meta
    team_column = membership.get_field("team").column
    user_column = membership.get_field("user").column
    return (
        f"WITH members AS (SELECT coalesce(array_agg({user_column} ORDER BY {user_column}),"  # noqa: S608
        f" '{{}}') AS ids FROM {membership.db_table} WHERE {team_column} = %s),"
        # The creator, if they may act: with a token's issue time (unix seconds), only while
        # active and not revoked (`accounts.authentication.acting_user`, in SQL).
        f" creator AS (SELECT id, username FROM {user.db_table} WHERE id = %s"
        " AND (%s::bigint IS NULL OR (is_active AND (tokens_valid_after IS NULL"
        " OR tokens_valid_after <= to_timestamp(%s::bigint))))),"
        f" task AS (INSERT INTO {task_plan.table} ({', '.join(task_plan.columns)})"
        f" SELECT {', '.join(task_plan.placeholders)} FROM members, creator"
        " WHERE %s::bigint IS NULL OR %s::bigint = ANY(members.ids)"
        f" RETURNING {task_plan.pk}),"
        f" event AS (INSERT INTO {event_plan.table} ({', '.join(event_plan.columns)})"
        f" SELECT {', '.join(event_placeholders)} FROM task, members, creator"
        f" RETURNING {event_plan.pk}),"
        f" activity AS (INSERT INTO {activity} (task_id, actor_id, verb, changes, created_at)"
        " SELECT task.id, %s, 'created', '{}'::jsonb, %s FROM task),"
        f" watchers AS (INSERT INTO {watcher} (task_id, user_id, created_at)"
        " SELECT task.id, user_id, %s FROM task, unnest(%s::bigint[]) AS user_id"
        " ON CONFLICT DO NOTHING),"
        f" tick AS (INSERT INTO {_CLOCK} (team_id, slot, ticks) SELECT %s, %s, 1 FROM task"
        f" {_TICKED})"
        " SELECT task.id, event.id, members.ids, creator.username"
        " FROM members LEFT JOIN creator ON true LEFT JOIN task ON true LEFT JOIN event ON true"
    )
