"""The one codec both sides use: events and frames to and from JSON text.

The publisher encodes an event once; the stream id only exists after it is appended to Redis,
so the realtime service turns the stored text into an `event` frame by splicing the frame type
and id in front of it (`event_frame`) instead of decoding and re-encoding it per delivery.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from taskflow_events.control import Control
from taskflow_events.events import Event
from taskflow_events.frames import AuthFrame, ClientFrame, ServerFrame

_event = TypeAdapter[Event](Event)
_control = TypeAdapter[Control](Control)
_server_frame = TypeAdapter[ServerFrame](ServerFrame)
_client_frame = TypeAdapter[ClientFrame](ClientFrame)


def encode_event(event: Event) -> str:
    return _event.dump_json(event).decode()


def decode_event(text: str | bytes) -> Event:
    return _event.validate_json(text)


def event_from_dict(raw: dict[str, Any]) -> Event:
    """Validate an event built from Python values (e.g. an outbox row)."""
    return _event.validate_python(raw)


def encode_control(control: Control) -> str:
    return _control.dump_json(control).decode()


def decode_control(text: str | bytes) -> Control:
    return _control.validate_json(text)


def control_from_dict(raw: dict[str, Any]) -> Control:
    """Validate a control message built from Python values (e.g. an outbox row's data)."""
    return _control.validate_python(raw)


def event_frame(stream_id: str, encoded_event: str) -> str:
    """`{"type":"event","id":...}` followed by the encoded event's own fields."""
    return f'{{"type":"event","id":{json.dumps(stream_id)},{encoded_event[1:]}'


def encode_frame(frame: ServerFrame | AuthFrame) -> str:
    return frame.model_dump_json()


def decode_server_frame(text: str | bytes) -> ServerFrame:
    return _server_frame.validate_json(text)


def decode_client_frame(text: str | bytes) -> ClientFrame:
    return _client_frame.validate_json(text)


def json_schema() -> dict[str, Any]:
    """The contract as JSON Schema; committed as docs/event-schema.json."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "TaskFlow Pro events and WebSocket frames",
        "event": _event.json_schema(),
        "control": _control.json_schema(),
        "client_frame": _client_frame.json_schema(),
        "server_frame": _server_frame.json_schema(),
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
