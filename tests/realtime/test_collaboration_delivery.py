"""Comments, mentions and watchers over real sockets: the API (a live server) writes, the relay
path publishes, uvicorn delivers to exactly the entitled sockets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pytest_django.live_server_helper import LiveServer

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team
from tests.realtime.client import SocketClient
from tests.realtime.conftest import Realtime, access_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def carol(django_user_model: type[User], team: Team) -> User:
    user = django_user_model.objects.create_user("carol", "carol@example.com")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    return user


def call(live_server: LiveServer, user: User, method: str, path: str, **body: Any) -> Any:
    response = httpx.request(
        method,
        f"{live_server.url}/api/v1/{path}",
        json=body or None,
        headers={"Authorization": f"Bearer {access_token(user)}"},
        timeout=30,
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def events_of(socket: SocketClient, count: int) -> list[tuple[str, dict[str, Any]]]:
    return [(frame["event"], frame["data"]) for frame in socket.events(count)]


def test_a_mention_reaches_the_mentioned_member_and_nobody_outside(
    live_server: LiveServer,
    realtime: Realtime,
    team: Team,
    alice: User,
    bob: User,
    carol: User,
    mallory: User,
) -> None:
    task = task_create(team=team, actor=alice, title="Fix login")
    with (
        realtime.client() as bob_socket,
        realtime.client() as carol_socket,
        realtime.client() as mallory_socket,
    ):
        bob_socket.auth(access_token(bob))
        carol_socket.auth(access_token(carol))
        mallory_socket.auth(access_token(mallory))

        comment = call(
            live_server, alice, "POST", f"tasks/{task.pk}/comments/", body="@bob can you look?"
        )

        (created, created_data), (notified, notified_data) = events_of(bob_socket, 2)
        assert created == "comment.created"
        # The comment as REST shows it (a short body is whole: not truncated).
        assert created_data == {"comment": {**comment, "body_truncated": False}}
        assert comment["mentions"] == [bob.pk]
        assert notified == "notification.created"
        assert notified_data["notification"]["type"] == "mentioned"
        assert notified_data["notification"]["task"] == task.pk
        assert notified_data["notification"]["actor"] == {"id": alice.pk, "username": "alice"}
        # Carol, a member, sees the thread move and is told nothing; Mallory sees nothing.
        [(carol_event, _)] = events_of(carol_socket, 1)
        assert carol_event == "comment.created"
        carol_socket.expect_silence(1.0)
        bob_socket.expect_silence(0.5)
        mallory_socket.expect_silence(0.5)

        # Mentioning someone outside the team notifies no one: on a task only its author
        # watches, the members get the comment and nothing else.
        quiet = task_create(team=team, actor=alice, title="Quiet")
        [(bob_event, _)] = events_of(bob_socket, 1)
        assert bob_event == "task.created"
        call(live_server, alice, "POST", f"tasks/{quiet.pk}/comments/", body="cc @mallory")
        [(bob_event, bob_data)] = events_of(bob_socket, 1)
        assert bob_event == "comment.created"
        assert bob_data["comment"]["mentions"] == []
        bob_socket.expect_silence(1.0)
        mallory_socket.expect_silence(0.5)
    assert not Notification.objects.filter(recipient=mallory).exists()
    assert Notification.objects.filter(type="mentioned").count() == 1


def test_watchers_hear_of_comments_and_status_changes_the_author_does_not(
    live_server: LiveServer,
    realtime: Realtime,
    team: Team,
    alice: User,
    bob: User,
    carol: User,
) -> None:
    task = task_create(team=team, actor=alice, title="Fix login", assignee=bob)
    Notification.objects.all().delete()
    with (
        realtime.client() as alice_socket,
        realtime.client() as bob_socket,
        realtime.client() as carol_socket,
    ):
        alice_socket.auth(access_token(alice))
        bob_socket.auth(access_token(bob))
        carol_socket.auth(access_token(carol))

        call(live_server, carol, "POST", f"tasks/{task.pk}/comments/", body="On it")

        for socket in (alice_socket, bob_socket):
            (created, _), (notified, data) = events_of(socket, 2)
            assert (created, notified) == ("comment.created", "notification.created")
            assert data["notification"]["type"] == "task_commented"
            assert data["notification"]["actor"] == {"id": carol.pk, "username": "carol"}
        [(carol_event, _)] = events_of(carol_socket, 1)
        assert carol_event == "comment.created"
        carol_socket.expect_silence(1.0)  # the author is not notified

        # Carol commented, so she watches now: Bob's status change reaches her and Alice.
        call(live_server, bob, "PATCH", f"tasks/{task.pk}/", status="in_progress")
        for socket in (alice_socket, carol_socket):
            (updated, _), (notified, data) = events_of(socket, 2)
            assert (updated, notified) == ("task.updated", "notification.created")
            assert data["notification"]["type"] == "task_status_changed"
        [(bob_event, _)] = events_of(bob_socket, 1)
        assert bob_event == "task.updated"
        bob_socket.expect_silence(1.0)
