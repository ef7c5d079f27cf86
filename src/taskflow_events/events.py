"""Domain events: what happened, in which team, by whom, with which data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from taskflow_events.payloads import (
    Actor,
    CommentPayload,
    DeletedCommentPayload,
    DeletedTaskPayload,
    MemberPayload,
    NotificationPayload,
    TaskPayload,
    TeamRole,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskData(Strict):
    task: TaskPayload


class TaskUpdatedData(Strict):
    task: TaskPayload
    # {field: [old, new]}, the same shape as the task's activity log.
    changes: dict[str, tuple[Any, Any]]


class TaskDeletedData(Strict):
    task: DeletedTaskPayload


class NotificationData(Strict):
    notification: NotificationPayload


class CommentData(Strict):
    comment: CommentPayload


class CommentDeletedData(Strict):
    comment: DeletedCommentPayload


class MemberData(Strict):
    member: MemberPayload


class MemberRoleChangedData(Strict):
    member: MemberPayload
    previous_role: TeamRole


class EventBase(Strict):
    occurred_at: AwareDatetime
    team: int | None
    actor: Actor | None


class TaskCreated(EventBase):
    event: Literal["task.created"] = "task.created"
    data: TaskData


class TaskUpdated(EventBase):
    event: Literal["task.updated"] = "task.updated"
    data: TaskUpdatedData


class TaskDeleted(EventBase):
    event: Literal["task.deleted"] = "task.deleted"
    data: TaskDeletedData


class NotificationCreated(EventBase):
    event: Literal["notification.created"] = "notification.created"
    data: NotificationData


class CommentCreated(EventBase):
    event: Literal["comment.created"] = "comment.created"
    data: CommentData


class CommentUpdated(EventBase):
    event: Literal["comment.updated"] = "comment.updated"
    data: CommentData


class CommentDeleted(EventBase):
    event: Literal["comment.deleted"] = "comment.deleted"
    data: CommentDeletedData


class TeamMemberAdded(EventBase):
    event: Literal["team.member_added"] = "team.member_added"
    data: MemberData


class TeamMemberRemoved(EventBase):
    event: Literal["team.member_removed"] = "team.member_removed"
    data: MemberData


class TeamMemberRoleChanged(EventBase):
    event: Literal["team.member_role_changed"] = "team.member_role_changed"
    data: MemberRoleChangedData


Event = Annotated[
    TaskCreated
    | TaskUpdated
    | TaskDeleted
    | NotificationCreated
    | CommentCreated
    | CommentUpdated
    | CommentDeleted
    | TeamMemberAdded
    | TeamMemberRemoved
    | TeamMemberRoleChanged,
    Field(discriminator="event"),
]
EVENT_NAMES = (
    "task.created",
    "task.updated",
    "task.deleted",
    "notification.created",
    "comment.created",
    "comment.updated",
    "comment.deleted",
    "team.member_added",
    "team.member_removed",
    "team.member_role_changed",
)
