"""Membership events over real sockets: every member and the affected user get them; a removed
member gets their removal and nothing more from the team, live or replayed after a reconnect."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pytest_django.live_server_helper import LiveServer

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Role, Team
from tests.realtime.conftest import Realtime, access_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


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


def test_member_added_role_changed_and_removed_reach_the_right_sockets(
    live_server: LiveServer,
    realtime: Realtime,
    team: Team,
    alice: User,
    bob: User,
    django_user_model: type[User],
) -> None:
    carol = django_user_model.objects.create_user("carol", "carol@example.com")
    Membership.objects.create(team=team, user=carol, role=Role.MEMBER)
    dave = django_user_model.objects.create_user("dave", "dave@example.com")
    members = f"teams/{team.pk}/members/"

    with (
        realtime.client() as alice_socket,
        realtime.client() as bob_socket,
        realtime.client() as carol_socket,
        realtime.client() as dave_socket,
    ):
        for socket, user in [
            (alice_socket, alice),
            (bob_socket, bob),
            (carol_socket, carol),
            (dave_socket, dave),
        ]:
            socket.auth(access_token(user))
        everyone = (alice_socket, bob_socket, carol_socket, dave_socket)

        # Dave, not yet a member, hears that he was added, like every member.
        added = call(live_server, alice, "POST", members, username="dave")
        for socket in everyone:
            [frame] = socket.events(1)
            assert (frame["event"], frame["team"]) == ("team.member_added", team.pk)
            assert frame["data"] == {"member": added}
        before_removal = frame["id"]

        changed = call(live_server, alice, "PATCH", f"{members}{bob.pk}/", role="admin")
        for socket in everyone:
            [frame] = socket.events(1)
            assert frame["event"] == "team.member_role_changed"
            assert frame["data"] == {"member": changed, "previous_role": "member"}

        # Bob (an admin now) removes Carol: she hears it, then nothing more from the team.
        call(live_server, bob, "DELETE", f"{members}{carol.pk}/")
        for socket in everyone:
            [frame] = socket.events(1)
            assert frame["event"] == "team.member_removed"
            assert frame["data"]["member"]["user"] == {"id": carol.pk, "username": "carol"}
            assert frame["actor"] == {"id": bob.pk, "username": "bob"}
        call(live_server, alice, "POST", "tasks/", team=team.pk, title="After Carol")
        call(live_server, alice, "PATCH", f"{members}{dave.pk}/", role="admin")
        for socket in (alice_socket, bob_socket, dave_socket):
            assert [f["event"] for f in socket.events(2)] == [
                "task.created",
                "team.member_role_changed",
            ]
        carol_socket.expect_silence(1.5)

    # Reconnecting with an id from before her removal replays the role change and the removal,
    # then nothing: the later team events were never addressed to her.
    with realtime.client() as carol_socket:
        carol_socket.auth(access_token(carol), last_event_id=before_removal)
        replayed = carol_socket.events(2)
        assert [f["event"] for f in replayed] == [
            "team.member_role_changed",
            "team.member_removed",
        ]
        carol_socket.expect_silence(1.5)
        # Live, too: another change in the team does not reach her.
        call(live_server, alice, "POST", "tasks/", team=team.pk, title="Still without Carol")
        carol_socket.expect_silence(1.5)
