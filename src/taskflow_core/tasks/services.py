"""Every change to a task goes through here: validation, version, activity, events, alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from rest_framework import serializers

from taskflow_core.accounts.models import User
from taskflow_core.common.exceptions import PreconditionFailed
from taskflow_core.events.services import event_emit
from taskflow_core.notifications.models import NotificationType
from taskflow_core.notifications.services import notification_create
from taskflow_core.tasks.models import PRIORITY_RANK, Priority, Status, Task, TaskActivity
from taskflow_core.tasks.serializers import event_changes, task_event_payload
from taskflow_core.teams.models import MANAGING_ROLES, Membership, Team
from taskflow_core.teams.selectors import team_member_ids
from taskflow_core.teams.services import team_member_remove

EDITABLE_FIELDS = ("title", "description", "status", "priority", "due_at", "assignee")


ASSIGNEE_NOT_A_MEMBER = "The assignee must be a member of the task's team."


def task_assignee_validate(*, team_id: int, assignee: User | None) -> None:
    """The one place of the rule "a task's assignee is a member of its team": the API and the
    admin both render its `ValidationError` on the `assignee` field."""
    if (
        assignee is not None
        and not Membership.objects.filter(team_id=team_id, user=assignee).exists()
    ):
        raise ValidationError({"assignee": [ASSIGNEE_NOT_A_MEMBER]})


def _json_value(field: str, value: Any) -> Any:
    if field == "assignee":
        return value.pk if value is not None else None
    if isinstance(value, datetime):
        # The task's own representation (`...Z`), so clients can compare old/new with it.
        return serializers.DateTimeField().to_representation(value)
    return value


def _notify(*, task: Task, actor: User, assignee_changed: bool, status_changed: bool) -> None:
    """docs/api.md's notification rules for changes made by people (never the actor themself)."""
    if assignee_changed and task.assignee is not None and task.assignee_id != actor.pk:
        notification_create(
            recipient=task.assignee,
            type=NotificationType.TASK_ASSIGNED,
            task_id=task.pk,
            team_id=task.team_id,
            actor=actor,
            message=f'{actor.username} assigned you "{task.title}"',
        )
    if status_changed:
        recipients = {task.created_by, task.assignee} - {None, actor}
        for recipient in sorted(recipients, key=lambda user: user.pk):  # type: ignore[union-attr]
            notification_create(
                recipient=recipient,  # type: ignore[arg-type]
                type=NotificationType.TASK_STATUS_CHANGED,
                task_id=task.pk,
                team_id=task.team_id,
                actor=actor,
                message=f'{actor.username} moved "{task.title}" to {task.get_status_display()}',
            )


@transaction.atomic
def task_create(
    *,
    team: Team,
    actor: User,
    title: str,
    description: str = "",
    status: str = Status.TODO,
    priority: str = Priority.MEDIUM,
    due_at: datetime | None = None,
    assignee: User | None = None,
) -> Task:
    task_assignee_validate(team_id=team.pk, assignee=assignee)
    task = Task(
        team=team,
        title=title,
        description=description,
        status=status,
        priority=priority,
        priority_rank=PRIORITY_RANK[Priority(priority)],
        due_at=due_at,
        assignee=assignee,
        created_by=actor,
        completed_at=timezone.now() if status == Status.DONE else None,
    )
    task.full_clean(exclude=["team", "created_by", "assignee"])
    task.save()
    TaskActivity.objects.create(task=task, actor=actor, verb="created", changes={})
    event_emit(
        name="task.created",
        team_id=team.pk,
        actor=actor,
        data={"task": task_event_payload(task)},
        recipients=team_member_ids(team_id=team.pk),
    )
    _notify(task=task, actor=actor, assignee_changed=assignee is not None, status_changed=False)
    return task


@transaction.atomic
def task_update(
    *, task_id: int, actor: User, data: dict[str, Any], expected_version: int | None = None
) -> Task:
    """Apply `data` to the task under a row lock; `expected_version` guards against lost updates."""
    task = (
        Task.objects.select_for_update(of=("self",))
        .select_related("assignee", "created_by")
        .filter(pk=task_id)
        .first()
    )
    if task is None:  # deleted by someone else since the caller looked it up
        raise Http404("No such task.")
    if expected_version is not None and expected_version != task.version:
        raise PreconditionFailed()
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {field: ["This field cannot be changed."] for field in sorted(unknown)}
        )
    if "assignee" in data:
        task_assignee_validate(team_id=task.team_id, assignee=data["assignee"])

    changes: dict[str, list[Any]] = {}
    for field, new in data.items():
        old = getattr(task, field)
        if old != new:
            changes[field] = [_json_value(field, old), _json_value(field, new)]
            setattr(task, field, new)
    if not changes:
        return task

    if "priority" in changes:
        task.priority_rank = PRIORITY_RANK[Priority(task.priority)]
    if "status" in changes:
        task.completed_at = timezone.now() if task.status == Status.DONE else None
    task.version += 1
    task.full_clean(exclude=["team", "created_by", "assignee"])
    task.save()
    TaskActivity.objects.create(task=task, actor=actor, verb="updated", changes=changes)
    event_emit(
        name="task.updated",
        team_id=task.team_id,
        actor=actor,
        data={"task": task_event_payload(task), "changes": event_changes(changes)},
        recipients=team_member_ids(team_id=task.team_id),
    )
    _notify(
        task=task,
        actor=actor,
        assignee_changed="assignee" in changes,
        status_changed="status" in changes,
    )
    return task


@transaction.atomic
def task_delete(*, task: Task, actor: User) -> None:
    role = (
        Membership.objects.filter(team_id=task.team_id, user=actor)
        .values_list("role", flat=True)
        .first()
    )
    if task.created_by_id != actor.pk and role not in MANAGING_ROLES:
        raise PermissionDenied("Only the task's creator or a team owner/admin can delete it.")
    # The version under the row lock: the event follows the task's last update (docs/events.md
    # "Ordering"), even if `task` was read before someone else changed it.
    locked = Task.objects.select_for_update().filter(pk=task.pk)
    current = locked.values_list("version", flat=True).first()
    if current is None:  # deleted by someone else meanwhile
        raise Http404("No such task.")
    task_id, team_id = task.pk, task.team_id
    task.delete()
    event_emit(
        name="task.deleted",
        team_id=team_id,
        actor=actor,
        data={"task": {"id": task_id, "version": current}},
        recipients=team_member_ids(team_id=team_id),
    )


@transaction.atomic
def task_team_member_remove(*, team: Team, actor: User, user_id: int) -> None:
    """Remove a member from a team and unassign their tasks there, in one transaction.

    Teams know nothing of tasks (docs/architecture.md), so the removal that must also unassign
    is composed here: `teams.services.team_member_remove` applies the membership rules, then each
    of the member's tasks goes through `task_update`, with its activity entry and `task.updated`.
    """
    team_member_remove(team=team, actor=actor, user_id=user_id)
    assigned = Task.objects.filter(team=team, assignee_id=user_id).values_list("pk", flat=True)
    for task_id in assigned:
        task_update(task_id=task_id, actor=actor, data={"assignee": None})
