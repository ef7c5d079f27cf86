"""Reads of comments, limited to the teams the caller belongs to."""

from __future__ import annotations

from django.db.models import QuerySet

from taskflow_core.accounts.models import User
from taskflow_core.comments.models import Comment
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Membership


def comment_list(*, task: Task) -> QuerySet[Comment]:
    """The task's comments, oldest first."""
    return Comment.objects.filter(task=task).select_related("author").order_by("created_at", "id")


def comment_get(*, user: User, comment_id: int) -> Comment | None:
    """The comment if it is on a task of one of the user's teams; otherwise it does not exist
    for them."""
    team_ids = Membership.objects.filter(user=user).values("team_id")
    return (
        Comment.objects.filter(pk=comment_id, task__team_id__in=team_ids)
        .select_related("author", "task")
        .first()
    )
