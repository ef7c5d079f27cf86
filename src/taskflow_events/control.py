"""Control messages: stream entries for the realtime service itself, never sent to clients.

They ride the event stream next to events (field `c` instead of `e`, docs/events.md "Control
entries"), so every realtime process sees them in stream order.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Epoch(BaseModel):
    """Redis may have lost history: ids before this entry can have holes. Every connected
    socket gets `resync`; a replay from an older id gets `resync` too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["epoch"] = "epoch"
    epoch: str


def control_kind(text: str) -> tuple[str, dict[str, Any]]:
    """The `kind` of a control entry and its fields; ValueError if it is not one."""
    message = json.loads(text)
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise ValueError("a control message is a JSON object with a string `kind`")
    return message["kind"], message
