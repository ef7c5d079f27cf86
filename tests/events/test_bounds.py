"""Events never carry unbounded text, and no event frame is over 64 KiB: the publisher refuses
one that would be, loudly, without holding up the rows behind it."""

from __future__ import annotations

import json

import pytest
import redis
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.comments.services import comment_create, comment_update
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.relay import OutboxRelay
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Team
from taskflow_events.codec import MAX_EVENT_FRAME_BYTES, event_frame
from taskflow_events.payloads import COMMENT_BODY_PREVIEW_CHARS, DESCRIPTION_PREVIEW_CHARS
from tests.events.conftest import stream_entries

pytestmark = pytest.mark.django_db(transaction=True)


def stream_events(client: redis.Redis, stream: str) -> list[dict[str, object]]:
    return [json.loads(fields["e"]) for _, fields in stream_entries(client, stream)]


def test_task_events_carry_a_preview_of_a_long_description(
    event_stream: str, stream_redis: redis.Redis, team: Team, alice: User
) -> None:
    long_text = "é" * 15_000
    task = task_create(team=team, actor=alice, title="Long", description=long_text)
    task_update(task_id=task.pk, actor=alice, data={"description": long_text + "!"})
    task_update(task_id=task.pk, actor=alice, data={"description": "short now"})
    created, updated, shortened = stream_events(stream_redis, event_stream)

    preview = long_text[:DESCRIPTION_PREVIEW_CHARS]
    assert created["data"]["task"]["description"] == preview  # type: ignore[index]
    assert created["data"]["task"]["description_truncated"] is True  # type: ignore[index]
    assert updated["data"]["changes"] == {"description": [preview, preview]}  # type: ignore[index]
    assert shortened["data"]["task"]["description"] == "short now"  # type: ignore[index]
    assert shortened["data"]["task"]["description_truncated"] is False  # type: ignore[index]
    assert shortened["data"]["changes"] == {"description": [preview, "short now"]}  # type: ignore[index]
    for _, fields in stream_entries(stream_redis, event_stream):
        assert len(fields["e"].encode()) < 8 * 1024
    task.refresh_from_db()
    assert task.description == "short now"


def test_an_event_too_large_for_a_frame_is_set_aside_and_the_rest_go_out(
    event_stream: str,
    stream_redis: redis.Redis,
    team: Team,
    alice: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = task_create(team=team, actor=alice, title="fine")
    payload = OutboxEvent.objects.get().data["task"]
    # A field the contract lets through (resources accept new fields) but far too big.
    huge = OutboxEvent.objects.create(
        name="task.updated",
        team_id=team.pk,
        actor=None,
        data={
            "task": {**payload, "version": 2, "notes": "x" * MAX_EVENT_FRAME_BYTES},
            "changes": {},
        },
        recipients=[alice.pk],
        occurred_at=timezone.now(),
    )
    relay = OutboxRelay(poll_seconds=0.1, grace_seconds=0, retention_seconds=3600)
    with caplog.at_level("ERROR"):
        assert relay.publish_pending() == 2
    huge.refresh_from_db()
    assert huge.stream_id == "rejected"
    assert f"outbox event {huge.pk} cannot be published" in caplog.text
    names = [event["event"] for event in stream_events(stream_redis, event_stream)]
    assert names == ["task.created"]
    # What does go out stays within a frame.
    for entry_id, fields in stream_entries(stream_redis, event_stream):
        assert len(event_frame(entry_id, fields["e"]).encode()) <= MAX_EVENT_FRAME_BYTES
    task_update(task_id=task.pk, actor=alice, data={"title": "still flowing"})
    assert stream_events(stream_redis, event_stream)[-1]["event"] == "task.updated"


def test_comment_events_carry_a_preview_of_a_long_body(
    event_stream: str, stream_redis: redis.Redis, team: Team, alice: User
) -> None:
    task = task_create(team=team, actor=alice, title="Discussed")
    long_body = "word " * 2_000
    comment = comment_create(task_id=task.pk, author=alice, body=long_body)
    comment_update(comment_id=comment.pk, actor=alice, body="short")
    created, updated = (
        e for e in stream_events(stream_redis, event_stream) if e["event"] != "task.created"
    )
    assert created["data"]["comment"]["body"] == long_body[:COMMENT_BODY_PREVIEW_CHARS]  # type: ignore[index]
    assert created["data"]["comment"]["body_truncated"] is True  # type: ignore[index]
    assert updated["data"]["comment"]["body"] == "short"  # type: ignore[index]
    assert updated["data"]["comment"]["body_truncated"] is False  # type: ignore[index]
