"""Every change to a task goes through here: validation, version, activity, events, alerts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from rest_framework import serializers

from taskflow_core.accounts.authentication import TokenBearer
from taskflow_core.accounts.models import User
from taskflow_core.common.exceptions import PreconditionFailed
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.services import (
    event_emit,
    events_emit,
    outbox_event,
    publish_on_commit,
)
from taskflow_core.notifications.models import NotificationType
from taskflow_core.notifications.services import notification_create, notification_emails_cancel
from taskflow_core.tasks.clock import task_created_insert, team_task_clock_tick
from taskflow_core.tasks.mentions import has_mentions, mentioned_member_ids
from taskflow_core.tasks.models import (
    PRIORITY_RANK,
    Priority,
    Status,
    Task,
    TaskActivity,
    TaskWatcher,
)
from taskflow_core.tasks.serializers import event_changes, task_event_payload, task_event_payloads
from taskflow_core.teams.models import MANAGING_ROLES, Membership, Team
from taskflow_core.teams.selectors import team_member_ids
from taskflow_core.teams.services import team_member_hold, team_member_remove

EDITABLE_FIELDS = ("title", "description", "status", "priority", "due_at", "assignee")


ASSIGNEE_NOT_A_MEMBER = "The assignee must be a member of the task's team."
TEAM_NOT_YOURS = "You are not a member of a team with this id."


def task_assignee_validate(*, team_id: int, assignee: User | None) -> None:
    """The one place of the rule "a task's assignee is a member of its team": the API and the
    admin both render its `ValidationError` on the `assignee` field."""
    if (
        assignee is not None
        and not Membership.objects.filter(team_id=team_id, user=assignee).exists()
    ):
        raise ValidationError({"assignee": [ASSIGNEE_NOT_A_MEMBER]})


def _assignee_hold(*, team_id: int, assignee: User) -> User:
    """`task_assignee_validate` under a lock: the assignee stays a member until we commit, so a
    concurrent removal either waits for this assignment (and then unassigns the task) or has
    already happened (and this is a 400). Returns the assignee as read under that lock: the
    caller may pass just an id (`User(pk=...)`, as the API does), the row comes with the hold."""
    held = team_member_hold(team_id=team_id, user_id=assignee.pk)
    if held is None:
        raise ValidationError({"assignee": [ASSIGNEE_NOT_A_MEMBER]})
    return held


def _json_value(field: str, value: Any) -> Any:
    if field == "assignee":
        return value.pk if value is not None else None
    if isinstance(value, datetime):
        # The task's own representation (`...Z`), so clients can compare old/new with it.
        return serializers.DateTimeField().to_representation(value)
    return value


def task_watchers_add(*, task: Task, user_ids: Iterable[int | None]) -> None:
    """Make these users watchers of the task (those already watching stay as they are)."""
    rows = [TaskWatcher(task=task, user_id=user_id) for user_id in set(user_ids) if user_id]
    TaskWatcher.objects.bulk_create(rows, ignore_conflicts=True)


def task_watcher_ids(*, task: Task) -> list[int]:
    """The task's watchers who are still members of its team, by id: who hears of a comment or
    a status change."""
    return list(
        TaskWatcher.objects.filter(task=task, user__memberships__team_id=task.team_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def task_notify(
    *, task: Task, actor: User, recipient_ids: Iterable[int], type: str, message: str
) -> None:
    """One notification per recipient who is still a member of the task's team, never the
    actor themself (docs/api.md, the notification table)."""
    wanted = set(recipient_ids) - {actor.pk}
    if not wanted:
        return
    recipients = User.objects.filter(pk__in=wanted, memberships__team_id=task.team_id).order_by(
        "pk"
    )
    for recipient in recipients:
        notification_create(
            recipient=recipient,
            type=type,
            task_id=task.pk,
            team_id=task.team_id,
            actor=actor,
            message=message,
        )


def task_activity_record(
    *, task: Task, actor: User, verb: str, changes: dict[str, list[Any]] | None = None
) -> TaskActivity:
    return TaskActivity.objects.create(task=task, actor=actor, verb=verb, changes=changes or {})


def _newly_mentioned(*, task: Task, old_description: str | None) -> list[int]:
    if old_description is None:
        return []
    before = set(mentioned_member_ids(team_id=task.team_id, text=old_description))
    return [
        user_id
        for user_id in mentioned_member_ids(team_id=task.team_id, text=task.description)
        if user_id not in before
    ]


def _notify(
    *,
    task: Task,
    actor: User,
    created: bool = False,
    assignee_changed: bool = False,
    status_changed: bool = False,
    mentioned: Sequence[int] = (),
) -> None:
    """The notification rules for changes made by people; who watches the task first (a
    create has recorded its watchers already: `task_created_insert`)."""
    new_watchers: list[int | None] = [*mentioned]
    if assignee_changed:
        new_watchers.append(task.assignee_id)
    if new_watchers and not created:
        task_watchers_add(task=task, user_ids=new_watchers)

    if assignee_changed and task.assignee is not None and task.assignee_id != actor.pk:
        # Not read again, as `task_notify` would: this transaction has read the assignee as it
        # took the hold on their membership (`_assignee_hold`).
        notification_create(
            recipient=task.assignee,
            type=NotificationType.TASK_ASSIGNED,
            task_id=task.pk,
            team_id=task.team_id,
            actor=actor,
            message=f'{actor.username} assigned you "{task.title}"',
        )
    if mentioned:
        task_notify(
            task=task,
            actor=actor,
            recipient_ids=mentioned,
            type=NotificationType.MENTIONED,
            message=f'{actor.username} mentioned you in "{task.title}"',
        )
    if status_changed:
        task_notify(
            task=task,
            actor=actor,
            recipient_ids=task_watcher_ids(task=task),
            type=NotificationType.TASK_STATUS_CHANGED,
            message=f'{actor.username} moved "{task.title}" to {task.get_status_display()}',
        )


def task_create(
    *,
    team: Team,
    actor: User | TokenBearer,
    title: str,
    description: str = "",
    status: str = Status.TODO,
    priority: str = Priority.MEDIUM,
    due_at: datetime | None = None,
    assignee: User | None = None,
    actor_must_be_member: bool = True,
) -> Task:
    """A `team` the actor is not a member of is a `ValidationError` on `team`, told exactly like
    a team that does not exist; `actor_must_be_member=False` lifts that (the admin's staff).
    The members are read by the statement that writes the task (`task_created_insert`).

    An `actor` known only by their access token (`TokenBearer`) is checked by that statement
    too (`CreatorMayNotAct` if they may not act, nothing written); only a task with nothing
    else to write (no assignee, no mentions) can be created so."""
    bearer = actor if isinstance(actor, TokenBearer) else None
    if bearer is not None and (assignee is not None or has_mentions(description)):
        raise TypeError("an assignee or a mention needs the actor's row: pass the checked User")
    if assignee is not None:
        # The actor's membership first: the assignee's check must not tell a non-member who is
        # in the team.
        member_ids = team_member_ids(team_id=team.pk)
        if actor_must_be_member and actor.pk not in member_ids:
            raise ValidationError({"team": [TEAM_NOT_YOURS]})
        if assignee.pk not in member_ids:
            raise ValidationError({"assignee": [ASSIGNEE_NOT_A_MEMBER]})
    task = Task(
        team=team,
        title=title,
        description=description,
        status=status,
        priority=priority,
        priority_rank=PRIORITY_RANK[Priority(priority)],
        due_at=due_at,
        assignee=assignee,
        created_by_id=actor.pk,
        completed_at=timezone.now() if status == Status.DONE else None,
    )
    task.full_clean(exclude=["team", "created_by", "assignee"])
    mentioned = mentioned_member_ids(team_id=team.pk, text=description)

    def created(task: Task) -> OutboxEvent:
        return outbox_event(
            name="task.created",
            team_id=team.pk,
            actor=None,  # the creator as the statement reads them
            data={"task": task_event_payload(task)},
            recipients=(),  # the team's members, as the statement reads them
        )

    # The task, its event, activity, watchers and the team's tick are one statement, atomic by
    # itself; only an assignee to hold or people to notify need a transaction around it.
    with transaction.atomic() if assignee is not None or mentioned else nullcontext():
        # The assignee stays a member until we commit: a concurrent removal waits for us.
        if assignee is not None:
            task.assignee = _assignee_hold(team_id=team.pk, assignee=assignee)
        event = task_created_insert(
            task=task,
            event_of=created,
            watcher_ids=[actor.pk, task.assignee_id, *mentioned],
            member_id=actor.pk if actor_must_be_member else None,
            token_issued_at=None if bearer is None else bearer.issued_at,
        )
        if event is None:  # nothing written
            raise ValidationError({"team": [TEAM_NOT_YOURS]})
        publish_on_commit(event)
        if isinstance(actor, User):  # a bearer's task has nobody to notify (see above)
            _notify(
                task=task, actor=actor, created=True, assignee_changed=True, mentioned=mentioned
            )
    return task


@transaction.atomic
def task_update(
    *, task_id: int, actor: User, data: dict[str, Any], expected_version: int | None = None
) -> Task:
    """Apply `data` to the task under a row lock; `expected_version` guards against lost updates."""
    if data.get("assignee") is not None:
        # The membership is held before the task row is locked: the order removal uses too.
        team_id = Task.objects.filter(pk=task_id).values_list("team_id", flat=True).first()
        if team_id is None:
            raise Http404("No such task.")
        data = {**data, "assignee": _assignee_hold(team_id=team_id, assignee=data["assignee"])}
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
    task_activity_record(task=task, actor=actor, verb="updated", changes=changes)
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
        mentioned=_newly_mentioned(
            task=task,
            old_description=changes["description"][0] if "description" in changes else None,
        ),
    )
    team_task_clock_tick(team_id=task.team_id)
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
    team_task_clock_tick(team_id=team_id)


@transaction.atomic
def task_watch(*, task: Task, user: User) -> None:
    task_watchers_add(task=task, user_ids=[user.pk])


@transaction.atomic
def task_unwatch(*, task: Task, user: User) -> None:
    """Stop hearing about the task, until the user is assigned, mentioned or comments again."""
    TaskWatcher.objects.filter(task=task, user=user).delete()


@transaction.atomic
def task_team_member_remove(*, team: Team, actor: User, user_id: int) -> int:
    """Remove a member from a team, unassign their tasks there, drop what they watch there and
    the emails still waiting about it, in one transaction; returns how many tasks were
    unassigned.

    Teams know nothing of tasks (docs/architecture.md), so the removal that must also unassign
    is composed here. `teams.services.team_member_remove` locks and deletes the membership (and
    emits `team.member_removed`); an assignment in flight holds that row, so it is waited for
    and its task is found below. The tasks are then changed in bulk — one UPDATE, one INSERT of
    activity, one INSERT of outbox rows (one `task.updated` per task, version + 1, as
    `task_update` would write; unassigning notifies nobody) — so that removing a member with
    thousands of tasks takes about a second, not one round trip per task (bench P8).
    """
    team_member_remove(team=team, actor=actor, user_id=user_id)
    TaskWatcher.objects.filter(task__team=team, user_id=user_id).delete()
    notification_emails_cancel(recipient_id=user_id, team_id=team.pk)
    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .filter(team=team, assignee_id=user_id)
        .order_by("pk")
    )
    if not tasks:
        return 0
    now = timezone.now()
    Task.objects.filter(pk__in=[task.pk for task in tasks]).update(
        assignee=None, version=F("version") + 1, updated_at=now
    )
    changes = {"assignee": [user_id, None]}
    for task in tasks:
        task.assignee, task.version, task.updated_at = None, task.version + 1, now
    TaskActivity.objects.bulk_create(
        [TaskActivity(task=task, actor=actor, verb="updated", changes=changes) for task in tasks],
        batch_size=500,
    )
    events_emit(
        name="task.updated",
        team_id=team.pk,
        actor=actor,
        datas=[{"task": payload, "changes": changes} for payload in task_event_payloads(tasks)],
        recipients=team_member_ids(team_id=team.pk),
    )
    team_task_clock_tick(team_id=team.pk)
    return len(tasks)
