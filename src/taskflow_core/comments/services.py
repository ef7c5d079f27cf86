"""Every change to a comment: validation, mentions, activity, events, notifications."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from taskflow_core.accounts.models import User
from taskflow_core.comments.models import Comment
from taskflow_core.comments.serializers import comment_event_payload
from taskflow_core.events.services import event_emit
from taskflow_core.notifications.models import NotificationType
from taskflow_core.tasks.mentions import mentioned_member_ids
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import (
    task_activity_record,
    task_notify,
    task_watcher_ids,
    task_watchers_add,
)
from taskflow_core.teams.models import MANAGING_ROLES, Membership
from taskflow_core.teams.selectors import team_member_ids


def _emit(name: str, *, task: Task, actor: User, data: dict[str, object]) -> None:
    event_emit(
        name=name,
        team_id=task.team_id,
        actor=actor,
        data={"comment": data},
        recipients=team_member_ids(team_id=task.team_id),
    )


def _notify_mentions(*, task: Task, actor: User, user_ids: list[int]) -> None:
    task_notify(
        task=task,
        actor=actor,
        recipient_ids=user_ids,
        type=NotificationType.MENTIONED,
        message=f'{actor.username} mentioned you in a comment on "{task.title}"',
    )


@transaction.atomic
def comment_create(*, task_id: int, author: User, body: str) -> Comment:
    """Post a comment: the task's watchers hear of it (`task_commented`), the members it
    mentions are told so instead (`mentioned`), and the author and them become watchers."""
    # The task is locked against deletion (not against other writers of the task row): a
    # comment never points at a task that is gone.
    task = Task.objects.select_for_update(no_key=True).filter(pk=task_id).first()
    if task is None:
        raise Http404("No such task.")
    if not Membership.objects.filter(team_id=task.team_id, user=author).exists():
        raise PermissionDenied("Only members of the task's team can comment on it.")
    comment = Comment(task=task, author=author, body=body)
    comment.full_clean(exclude=["task", "author"])
    comment.mentions = mentioned_member_ids(team_id=task.team_id, text=body)
    comment.mentions_notified = [user_id for user_id in comment.mentions if user_id != author.pk]
    comment.save()
    task_activity_record(
        task=task, actor=author, verb="commented", changes={"comment": [None, comment.pk]}
    )
    _emit("comment.created", task=task, actor=author, data=comment_event_payload(comment))
    watchers = task_watcher_ids(task=task)
    _notify_mentions(task=task, actor=author, user_ids=comment.mentions)
    task_notify(
        task=task,
        actor=author,
        recipient_ids=[user_id for user_id in watchers if user_id not in comment.mentions],
        type=NotificationType.TASK_COMMENTED,
        message=f'{author.username} commented on "{task.title}"',
    )
    task_watchers_add(task=task, user_ids=[author.pk, *comment.mentions])
    return comment


def _locked_comment(comment_id: int) -> Comment:
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("author", "task")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:  # deleted since the caller looked it up
        raise Http404("No such comment.")
    return comment


@transaction.atomic
def comment_update(*, comment_id: int, actor: User, body: str) -> Comment:
    """Only the author edits. Members mentioned for the first time in this comment are told."""
    comment = _locked_comment(comment_id)
    if comment.author_id != actor.pk:
        raise PermissionDenied("Only the comment's author can edit it.")
    if body == comment.body:
        return comment
    task = comment.task
    comment.body = body
    comment.full_clean(exclude=["task", "author"])
    comment.mentions = mentioned_member_ids(team_id=task.team_id, text=body)
    newly = [
        user_id
        for user_id in comment.mentions
        if user_id not in comment.mentions_notified and user_id != actor.pk
    ]
    comment.mentions_notified = [*comment.mentions_notified, *newly]
    comment.edited = True
    comment.save()
    task_activity_record(
        task=task, actor=actor, verb="comment_edited", changes={"comment": [comment.pk, comment.pk]}
    )
    _emit("comment.updated", task=task, actor=actor, data=comment_event_payload(comment))
    if newly:
        _notify_mentions(task=task, actor=actor, user_ids=newly)
        task_watchers_add(task=task, user_ids=newly)
    return comment


@transaction.atomic
def comment_delete(*, comment_id: int, actor: User) -> None:
    """The author, or an owner or admin of the task's team."""
    comment = _locked_comment(comment_id)
    task = comment.task
    role = (
        Membership.objects.filter(team_id=task.team_id, user=actor)
        .values_list("role", flat=True)
        .first()
    )
    if comment.author_id != actor.pk and role not in MANAGING_ROLES:
        raise PermissionDenied("Only the comment's author or a team owner/admin can delete it.")
    deleted: dict[str, object] = {"id": comment.pk, "task": task.pk}
    comment.delete()
    task_activity_record(
        task=task, actor=actor, verb="comment_deleted", changes={"comment": [comment_id, None]}
    )
    _emit("comment.deleted", task=task, actor=actor, data=deleted)
