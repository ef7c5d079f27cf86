"""Control entries ride the event stream (field `c`, no `e`): never sent to clients as frames;
`epoch` makes every connected socket resync; other kinds go to the handler registered for them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from redis.asyncio import Redis

from taskflow_core.accounts.models import User
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from taskflow_events.control import Epoch, control_kind
from taskflow_realtime.hub import Hub
from taskflow_realtime.stream import EventStream
from tests.realtime.conftest import Realtime, access_token


def test_a_control_entry_of_another_kind_goes_to_its_handler() -> None:
    stream = EventStream(Redis.from_url("redis://127.0.0.1:9/0"), "taskflow:test:{events}")
    received: list[tuple[str, dict[str, Any]]] = []
    stream.control_handlers["revoke"] = lambda entry_id, message: received.append(
        (entry_id, message)
    )
    message = {"kind": "revoke", "user": 7, "before": 1_800_000_000}
    stream._dispatch(Hub(), "5-0", {"r": "", "c": json.dumps(message)})
    assert received == [("5-0", message)]
    # A kind nobody handles is skipped (and logged), not fatal.
    stream._dispatch(Hub(), "6-0", {"r": "", "c": '{"kind": "later"}'})


@pytest.mark.parametrize("text", ["[]", '{"kind": 3}', "not json"])
def test_a_malformed_control_message_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"control message|Expecting value"):
        control_kind(text)


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_an_epoch_entry_resyncs_connected_sockets_and_no_control_frame_is_sent(
    realtime: Realtime,
    event_stream: str,
    stream_redis: redis.Redis,
    team: Team,
    alice: User,
    bob: User,
) -> None:
    with realtime.client() as socket:
        socket.auth(access_token(bob))
        stream_redis.xadd(event_stream, {"r": str(bob.pk), "c": '{"kind": "unhandled"}'})
        stream_redis.xadd(event_stream, {"r": "", "c": Epoch(epoch="ab12").model_dump_json()})
        assert socket.next() == {"type": "resync"}
        task = task_create(team=team, actor=alice, title="after")
        [frame] = socket.events(1)
        assert frame["data"]["task"]["id"] == task.pk
        socket.expect_silence(0.5)
