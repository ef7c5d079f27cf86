"""Events reach exactly the entitled sockets, once, in order, across reconnects and processes."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
import redis
from django.db import connection
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from taskflow_core.accounts.models import User
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Membership, Role, Team
from tests.events.conftest import last_stream_id
from tests.realtime.conftest import Realtime, access_token, assert_unique_ids, stream_id_key

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def own_team(user: User) -> Team:
    team = Team.objects.create(name=f"{user.username}'s")
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    return team


def test_an_assignment_reaches_the_assignee_and_nobody_outside_the_team(
    live_server: LiveServer, realtime: Realtime, team: Team, alice: User, bob: User, mallory: User
) -> None:
    with realtime.client() as bob_socket, realtime.client() as mallory_socket:
        assert bob_socket.auth(access_token(bob)) == {"type": "ready", "user": bob.pk}
        mallory_socket.auth(access_token(mallory))

        response = httpx.post(
            f"{live_server.url}/api/v1/tasks/",
            json={"team": team.pk, "title": "Ship it", "assignee": bob.pk},
            headers={"Authorization": f"Bearer {access_token(alice)}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        task_id = response.json()["id"]

        created, notified = bob_socket.events(2)
        assert created["event"] == "task.created"
        assert created["team"] == team.pk
        assert created["actor"] == {"id": alice.pk, "username": "alice"}
        # The task as REST shows it (a short description is whole: not truncated).
        assert created["data"]["task"] == {**response.json(), "description_truncated": False}
        assert notified["event"] == "notification.created"
        assert notified["data"]["notification"]["type"] == "task_assigned"
        assert notified["data"]["notification"]["task"] == task_id
        assert stream_id_key(created) < stream_id_key(notified)

        # Mallory is in no team of theirs: nothing arrives, though her socket is live...
        mallory_socket.expect_silence(1.5)
        mine = task_create(team=own_team(mallory), actor=mallory, title="mine")
        [own_event] = mallory_socket.events(1)
        assert own_event["data"]["task"]["id"] == mine.pk
        # ...and her team's events do not reach Bob.
        bob_socket.expect_silence(1.0)


def test_a_reconnect_replays_exactly_the_missed_events_then_goes_live(
    realtime: Realtime, team: Team, alice: User, bob: User
) -> None:
    task = task_create(team=team, actor=alice, title="v1")
    with realtime.client() as socket:
        socket.auth(access_token(bob))
        task_update(task_id=task.pk, actor=alice, data={"title": "v2"})
        [seen] = socket.events(1)
    assert seen["data"]["task"]["version"] == 2

    for title in ("v3", "v4", "v5"):
        task_update(task_id=task.pk, actor=alice, data={"title": title})

    with realtime.client() as socket:
        socket.auth(access_token(bob), last_event_id=seen["id"])
        replayed = socket.events(3)
        assert [frame["event"] for frame in replayed] == ["task.updated"] * 3
        assert [frame["data"]["task"]["title"] for frame in replayed] == ["v3", "v4", "v5"]
        assert [frame["data"]["changes"] for frame in replayed] == [
            {"title": ["v2", "v3"]},
            {"title": ["v3", "v4"]},
            {"title": ["v4", "v5"]},
        ]
        task_update(task_id=task.pk, actor=alice, data={"title": "v6"})
        [live] = socket.events(1)
        assert live["data"]["task"]["version"] == 6
        frames = [seen, *replayed, live]
        assert_unique_ids(frames)
        assert [stream_id_key(frame) for frame in frames] == sorted(
            stream_id_key(frame) for frame in frames
        )
        socket.expect_silence(1.0)


def test_no_gap_and_no_duplicate_when_reconnecting_during_a_burst(
    realtime: Realtime,
    event_stream: str,
    stream_redis: redis.Redis,
    team: Team,
    alice: User,
    bob: User,
) -> None:
    task = task_create(team=team, actor=alice, title="v1")
    last_id = last_stream_id(stream_redis, event_stream)

    def burst() -> None:
        try:
            for version in range(2, 42):
                task_update(task_id=task.pk, actor=alice, data={"title": f"v{version}"})
        finally:
            connection.close()

    writer = threading.Thread(target=burst)
    writer.start()
    try:
        with realtime.client() as socket:
            socket.auth(access_token(bob), last_event_id=last_id)
            frames = socket.events(40, timeout=60)
            assert [frame["data"]["task"]["version"] for frame in frames] == list(range(2, 42))
            assert_unique_ids(frames)
            socket.expect_silence(1.0)
    finally:
        writer.join()


def test_an_id_older_than_the_window_gets_resync(
    settings: Settings,
    realtime: Realtime,
    event_stream: str,
    stream_redis: redis.Redis,
    team: Team,
    alice: User,
    bob: User,
) -> None:
    settings.TASKFLOW_EVENT_STREAM_MAXLEN = 3
    task = task_create(team=team, actor=alice, title="v1")
    oldest_id = last_stream_id(stream_redis, event_stream)
    for version in range(2, 7):
        task_update(task_id=task.pk, actor=alice, data={"title": f"v{version}"})

    for last_event_id in (oldest_id, "not-an-id", "99999999999999-0"):
        with realtime.client() as socket:
            socket.auth(access_token(bob), last_event_id=last_event_id)
            assert socket.next() == {"type": "resync"}
            task_update(task_id=task.pk, actor=alice, data={"priority": "high"})
            [live] = socket.events(1)
            assert live["data"]["changes"] == {"priority": ["medium", "high"]}
            task_update(task_id=task.pk, actor=alice, data={"priority": "medium"})
            socket.events(1)


def test_clients_on_different_processes_each_get_their_events(
    start_realtime: Callable[..., Realtime], team: Team, alice: User, bob: User, mallory: User
) -> None:
    first, second = start_realtime(), start_realtime()
    with (
        first.client() as bob_socket,
        second.client() as alice_socket,
        second.client() as mallory_socket,
    ):
        bob_socket.auth(access_token(bob))
        alice_socket.auth(access_token(alice))
        mallory_socket.auth(access_token(mallory))
        task = task_create(team=team, actor=alice, title="Across", assignee=bob)

        created, notified = bob_socket.events(2)
        assert created["event"] == "task.created"
        assert created["data"]["task"]["id"] == task.pk
        assert notified["event"] == "notification.created"
        assert notified["data"]["notification"]["type"] == "task_assigned"
        [alice_created] = alice_socket.events(1)
        assert alice_created["id"] == created["id"]  # one event, one id, on every process
        alice_socket.expect_silence(1.0)  # Bob's notification is Bob's only
        mallory_socket.expect_silence(0.5)
