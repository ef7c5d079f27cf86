"""WebSocket frames (docs/protocol.md): `auth` from the client; `ready`, `resync` and `event`
from the server."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskflow_events.events import (
    CommentCreated,
    CommentDeleted,
    CommentUpdated,
    NotificationCreated,
    TaskCreated,
    TaskDeleted,
    TaskUpdated,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamMemberRoleChanged,
)


class AuthFrame(BaseModel):
    """The first frame of every connection, and later a token refresh for the same user."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["auth"] = "auth"
    token: str
    last_event_id: str | None = None


class ReadyFrame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["ready"] = "ready"
    user: int


class ResyncFrame(BaseModel):
    """The client's `last_event_id` is older than the retained window: re-read the REST API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["resync"] = "resync"


class Delivery(BaseModel):
    """What turns an event into a frame: the frame type and the event's stream id."""

    type: Literal["event"] = "event"
    id: str


class TaskCreatedFrame(Delivery, TaskCreated):
    pass


class TaskUpdatedFrame(Delivery, TaskUpdated):
    pass


class TaskDeletedFrame(Delivery, TaskDeleted):
    pass


class NotificationCreatedFrame(Delivery, NotificationCreated):
    pass


class CommentCreatedFrame(Delivery, CommentCreated):
    pass


class CommentUpdatedFrame(Delivery, CommentUpdated):
    pass


class CommentDeletedFrame(Delivery, CommentDeleted):
    pass


class TeamMemberAddedFrame(Delivery, TeamMemberAdded):
    pass


class TeamMemberRemovedFrame(Delivery, TeamMemberRemoved):
    pass


class TeamMemberRoleChangedFrame(Delivery, TeamMemberRoleChanged):
    pass


EventFrame = Annotated[
    TaskCreatedFrame
    | TaskUpdatedFrame
    | TaskDeletedFrame
    | NotificationCreatedFrame
    | CommentCreatedFrame
    | CommentUpdatedFrame
    | CommentDeletedFrame
    | TeamMemberAddedFrame
    | TeamMemberRemovedFrame
    | TeamMemberRoleChangedFrame,
    Field(discriminator="event"),
]
ServerFrame = Annotated[ReadyFrame | ResyncFrame | EventFrame, Field(discriminator="type")]
ClientFrame = AuthFrame
