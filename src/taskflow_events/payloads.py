"""The resources carried inside events: the same shapes the REST API returns."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

TaskStatus = Literal["todo", "in_progress", "blocked", "done", "cancelled"]
TaskPriority = Literal["low", "medium", "high", "urgent"]
# Events never carry unbounded text (no frame over 64 KiB, docs/events.md "Bounds"): a task's
# description travels as its first characters, flagged when cut; clients fetch the rest by REST.
DESCRIPTION_PREVIEW_CHARS = 1000
# The same for a comment's body.
COMMENT_BODY_PREVIEW_CHARS = 1000

NotificationKind = Literal[
    "task_assigned",
    "task_status_changed",
    "task_commented",
    "mentioned",
    "deadline_approaching",
    "task_overdue",
]
TeamRole = Literal["owner", "admin", "member"]


class Resource(BaseModel):
    # A field the REST representation gains later travels along instead of making the event
    # unpublishable: an outbox row that cannot be encoded would be stuck forever.
    model_config = ConfigDict(extra="allow", frozen=True)


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    username: str


class TaskPayload(Resource):
    id: int
    team: int
    title: str
    description: str = Field(max_length=DESCRIPTION_PREVIEW_CHARS)
    # True when `description` is a preview of a longer text (GET the task for all of it).
    description_truncated: bool = False
    status: TaskStatus
    priority: TaskPriority
    due_at: AwareDatetime | None
    assignee: int | None
    created_by: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    completed_at: AwareDatetime | None
    version: int


class DeletedTaskPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    # The task's version when it was deleted: orders the deletion after its last update
    # (docs/events.md "Ordering"). Absent only in events written before it existed.
    version: int | None = None


class NotificationPayload(Resource):
    id: int
    type: NotificationKind
    task: int | None
    actor: Actor | None
    message: str
    created_at: AwareDatetime
    read_at: AwareDatetime | None


class CommentPayload(Resource):
    id: int
    task: int
    author: Actor
    body: str = Field(max_length=COMMENT_BODY_PREVIEW_CHARS)
    # True when `body` is a preview of a longer text (GET the comment for all of it).
    body_truncated: bool = False
    mentions: list[int]  # ids of the team members the body mentions
    created_at: AwareDatetime
    updated_at: AwareDatetime
    edited: bool


class DeletedCommentPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    task: int


class MemberPayload(Resource):
    user: Actor
    role: TeamRole
    joined_at: AwareDatetime
