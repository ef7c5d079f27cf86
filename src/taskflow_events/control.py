"""Control messages: stream entries for the realtime service itself, never sent to clients.

They ride the event stream in a field of their own (`c` instead of `e`, docs/events.md,
"Control entries"), born in the outbox like events, so they are transactional and survive a
Redis outage through the relay.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

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
    """Redis may have lost history: ids before this entry can have holes. Every connected
    socket gets `resync`; a replay from an older id gets `resync` too."""

    kind: Literal["epoch"] = "epoch"
    epoch: str


Control = Annotated[Revoke | Epoch, Field(discriminator="kind")]
CONTROL_KINDS = ("revoke", "epoch")


def control_kind(text: str) -> tuple[str, dict[str, Any]]:
    """The `kind` of a control entry and its fields; ValueError if it is not one."""
    message = json.loads(text)
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise ValueError("a control message is a JSON object with a string `kind`")
    return message["kind"], message
