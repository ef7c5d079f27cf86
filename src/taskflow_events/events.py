"""Domain events: what happened, in which team, by whom, with which data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from taskflow_events.payloads import Actor, DeletedTaskPayload, NotificationPayload, TaskPayload


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


Event = Annotated[
    TaskCreated | TaskUpdated | TaskDeleted | NotificationCreated, Field(discriminator="event")
]
EVENT_NAMES = ("task.created", "task.updated", "task.deleted", "notification.created")
