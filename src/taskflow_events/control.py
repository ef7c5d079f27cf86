"""Control messages: stream entries for the realtime service itself, never sent to clients.

They ride the event stream in a field of their own (`c` instead of `e`, docs/events.md,
"Control entries"), born in the outbox like events, so they are transactional and survive a
Redis outage through the relay.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class ControlBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Revoke(ControlBase):
    """The user's access tokens issued before `before` (unix seconds) are revoked: close their
    sockets that authenticated with one (4401) and refuse such tokens at `auth`."""

    kind: Literal["revoke"] = "revoke"
    user: int
    before: int


class Epoch(ControlBase):
    """Stream history before this entry may have holes: replays from before it get `resync`."""

    kind: Literal["epoch"] = "epoch"
    epoch: str


Control = Annotated[Revoke | Epoch, Field(discriminator="kind")]
CONTROL_KINDS = ("revoke", "epoch")
