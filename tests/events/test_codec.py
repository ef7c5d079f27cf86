"""The contract: every event and frame survives JSON both ways; the committed schema is current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from taskflow_events.codec import (
    MAX_EVENT_FRAME_BYTES,
    EventTooLarge,
    decode_client_frame,
    decode_event,
    decode_server_frame,
    encode_event,
    encode_event_bounded,
    encode_frame,
    event_frame,
    event_from_dict,
    json_schema,
)
from taskflow_events.events import EVENT_NAMES
from taskflow_events.frames import AuthFrame, ReadyFrame, ResyncFrame
from taskflow_events.payloads import DESCRIPTION_PREVIEW_CHARS

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "event-schema.json"

TASK = {
    "id": 7,
    "team": 3,
    "title": "Ship it",
    "description": "",
    "description_truncated": False,
    "status": "in_progress",
    "priority": "high",
    "due_at": "2026-12-01T09:30:00Z",
    "assignee": 2,
    "created_by": 1,
    "created_at": "2026-11-28T01:00:00.123456Z",
    "updated_at": "2026-11-28T01:05:00Z",
    "completed_at": None,
    "version": 2,
}
NOTIFICATION = {
    "id": 11,
    "type": "task_assigned",
    "task": 7,
    "actor": {"id": 1, "username": "alice"},
    "message": 'alice assigned you "Ship it"',
    "created_at": "2026-11-28T01:00:00Z",
    "read_at": None,
}
COMMENT = {
    "id": 5,
    "task": 7,
    "author": {"id": 2, "username": "bob"},
    "body": "Looks good, @alice\n\tship it",
    "body_truncated": False,
    "mentions": [1],
    "created_at": "2026-11-28T01:06:00Z",
    "updated_at": "2026-11-28T01:07:00Z",
    "edited": True,
}
MEMBER = {
    "user": {"id": 4, "username": "carol"},
    "role": "admin",
    "joined_at": "2026-11-28T01:00:00Z",
}
DATA: dict[str, dict[str, Any]] = {
    "task.created": {"task": TASK},
    "task.updated": {"task": TASK, "changes": {"status": ["todo", "in_progress"]}},
    "task.deleted": {"task": {"id": 7, "version": 2}},
    "notification.created": {"notification": NOTIFICATION},
    "comment.created": {"comment": COMMENT},
    "comment.updated": {"comment": COMMENT},
    "comment.deleted": {"comment": {"id": 5, "task": 7}},
    "team.member_added": {"member": MEMBER},
    "team.member_removed": {"member": MEMBER},
    "team.member_role_changed": {"member": MEMBER, "previous_role": "member"},
}


def raw_event(name: str) -> dict[str, Any]:
    return {
        "event": name,
        "occurred_at": "2026-11-28T01:05:00.000001Z",
        "team": 3,
        "actor": {"id": 1, "username": "alice"},
        "data": DATA[name],
    }


def test_every_event_name_has_a_sample() -> None:
    assert set(DATA) == set(EVENT_NAMES)


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_event_round_trips_through_json(name: str) -> None:
    event = event_from_dict(raw_event(name))
    text = encode_event(event)
    assert decode_event(text) == event
    assert json.loads(text) == raw_event(name)


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_event_frame_round_trips_and_carries_the_stream_id(name: str) -> None:
    text = event_frame("1764291900000-3", encode_event(event_from_dict(raw_event(name))))
    frame = decode_server_frame(text)
    assert frame.type == "event"
    assert frame.id == "1764291900000-3"
    assert decode_server_frame(encode_frame(frame)) == frame
    assert json.loads(text) == {"type": "event", "id": "1764291900000-3", **raw_event(name)}


@pytest.mark.parametrize(
    "frame",
    [ReadyFrame(user=5), ResyncFrame()],
)
def test_server_frames_round_trip(frame: ReadyFrame | ResyncFrame) -> None:
    assert decode_server_frame(encode_frame(frame)) == frame


@pytest.mark.parametrize(
    "frame", [AuthFrame(token="a.b.c"), AuthFrame(token="a.b.c", last_event_id="1-0")]
)
def test_auth_frame_round_trips(frame: AuthFrame) -> None:
    assert decode_client_frame(encode_frame(frame)) == frame


def test_auth_frame_from_the_wire() -> None:
    frame = decode_client_frame('{"type": "auth", "token": "t", "last_event_id": null}')
    assert frame == AuthFrame(token="t", last_event_id=None)


@pytest.mark.parametrize(
    "text",
    ['{"type": "auth"}', '{"type": "hello", "token": "t"}', "not json", '{"token": 1}'],
)
def test_malformed_client_frames_are_rejected(text: str) -> None:
    with pytest.raises(ValidationError):
        decode_client_frame(text)


def test_unknown_event_name_is_rejected() -> None:
    with pytest.raises(ValidationError):
        event_from_dict({**raw_event("task.deleted"), "event": "task.exploded"})


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValidationError):
        event_from_dict({**raw_event("task.deleted"), "occurred_at": "2026-11-28T01:05:00"})


def test_a_task_description_in_an_event_is_a_preview() -> None:
    task = {**TASK, "description": "x" * (DESCRIPTION_PREVIEW_CHARS + 1)}
    with pytest.raises(ValidationError, match="description"):
        event_from_dict({**raw_event("task.created"), "data": {"task": task}})


def test_an_event_whose_frame_would_pass_64_kib_is_refused() -> None:
    def with_notes(size: int) -> str:
        task = {**TASK, "notes": "n" * size}  # resources let unknown fields through
        return encode_event_bounded(
            event_from_dict({**raw_event("task.created"), "data": {"task": task}})
        )

    base = len(with_notes(0).encode())
    longest_id = "18446744073709551615-18446744073709551615"
    fits = with_notes(MAX_EVENT_FRAME_BYTES - base - 100)
    assert len(event_frame(longest_id, fits).encode()) <= MAX_EVENT_FRAME_BYTES
    with pytest.raises(EventTooLarge):
        with_notes(MAX_EVENT_FRAME_BYTES - base)


def test_committed_json_schema_matches_the_models() -> None:
    # Regenerate with: python -m taskflow_events > docs/event-schema.json
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()
