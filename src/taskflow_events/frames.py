"""WebSocket frames (docs/protocol.md): `auth` from the client; `ready`, `resync` and `event`
from the server."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskflow_events.events import NotificationCreated, TaskCreated, TaskDeleted, TaskUpdated


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


EventFrame = Annotated[
    TaskCreatedFrame | TaskUpdatedFrame | TaskDeletedFrame | NotificationCreatedFrame,
    Field(discriminator="event"),
]
ServerFrame = Annotated[ReadyFrame | ResyncFrame | EventFrame, Field(discriminator="type")]
ClientFrame = AuthFrame
