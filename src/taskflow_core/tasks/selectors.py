"""Reads of tasks and their activity, always limited to the teams the caller belongs to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django_filters.utils import translate_validation

from taskflow_core.accounts.models import User
from taskflow_core.tasks.filters import TaskFilter
from taskflow_core.tasks.models import Task, TaskActivity, TeamTaskClock
from taskflow_core.teams.models import Membership


def task_visible_queryset(*, user: User) -> QuerySet[Task]:
    """Tasks of the user's teams; everything else does not exist for them (404)."""
    team_ids = Membership.objects.filter(user=user).values("team_id")
    return Task.objects.filter(team_id__in=team_ids)


def task_list_filters(
    *, user: User, filters: Mapping[str, Any], team_ids: Sequence[int] | None = None
) -> TaskFilter:
    """The list's query parameters, validated (invalid ones raise a 400); `.qs` is the list.

    `team_ids`: the user's teams (all of them, or the one the list is narrowed to), if the
    caller has just read them (the list's tag has): the list then reads those teams' tasks
    instead of looking the memberships up again in each of its queries."""
    tasks = (
        task_visible_queryset(user=user)
        if team_ids is None
        else Task.objects.filter(team_id__in=team_ids)
    )
    filterset = TaskFilter(filters, tasks, user=user)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset


def task_get(*, user: User, task_id: int) -> Task | None:
    return task_visible_queryset(user=user).filter(pk=task_id).first()


def task_activity_list(*, task: Task) -> QuerySet[TaskActivity]:
    return (
        TaskActivity.objects.filter(task=task).select_related("actor").order_by("created_at", "id")
    )


def task_version_get(*, user: User, task_id: int) -> int | None:
    """The version of a task the user can see (what a conditional read compares), or None."""
    version: int | None = (
        task_visible_queryset(user=user)
        .filter(pk=task_id)
        .values_list("version", flat=True)
        .first()
    )
    return version


_CLOCKS_SQL = (
    f"SELECT m.team_id, COALESCE(SUM(c.ticks), 0) FROM {Membership._meta.db_table} m"  # noqa: S608
    f" LEFT JOIN {TeamTaskClock._meta.db_table} c ON c.team_id = m.team_id"
    " WHERE m.user_id = %s AND (%s::bigint IS NULL OR m.team_id = %s::bigint)"
    " GROUP BY m.team_id ORDER BY m.team_id"
)


def team_task_clocks(*, user: User, team_id: int | None = None) -> list[tuple[int, int]]:
    """(team id, changes to its tasks so far) for each of the user's teams (or just `team_id`,
    if they are in it): no task is read. Plain SQL: it is all a 304 costs besides the user, so
    the ORM's query building would be most of its price."""
    with connection.cursor() as cursor:
        cursor.execute(_CLOCKS_SQL, [user.pk, team_id, team_id])
        return [(int(team), int(ticks)) for team, ticks in cursor.fetchall()]
