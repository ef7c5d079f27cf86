"""Reads of tasks and their activity, always limited to the teams the caller belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django_filters.utils import translate_validation

from taskflow_core.accounts.models import User
from taskflow_core.tasks.filters import TaskFilter
from taskflow_core.tasks.models import Task, TaskActivity
from taskflow_core.teams.models import Membership


def task_visible_queryset(*, user: User) -> QuerySet[Task]:
    """Tasks of the user's teams; everything else does not exist for them (404)."""
    team_ids = Membership.objects.filter(user=user).values("team_id")
    return Task.objects.filter(team_id__in=team_ids)


def task_list(*, user: User, filters: Mapping[str, Any]) -> QuerySet[Task]:
    """The user's tasks narrowed by the list's query parameters; invalid ones raise a 400."""
    filterset = TaskFilter(filters, task_visible_queryset(user=user), user=user)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    queryset: QuerySet[Task] = filterset.qs
    return queryset


def task_get(*, user: User, task_id: int) -> Task | None:
    return task_visible_queryset(user=user).filter(pk=task_id).first()


def task_activity_list(*, task: Task) -> QuerySet[TaskActivity]:
    return (
        TaskActivity.objects.filter(task=task).select_related("actor").order_by("created_at", "id")
    )
