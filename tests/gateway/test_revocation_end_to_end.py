"""Revocation reaches open sockets end to end, through the gateway, with the real core, relay
and two realtime processes: a password change through the API closes the user's socket with
4401 within a second, so do a log-out-everywhere and a deactivation, and a member removed from
a team stops receiving the team's events at once (recipients are fixed when an event is
published)."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from taskflow_core.accounts.models import User
from taskflow_core.identity.services import user_deactivate
from tests.gateway.conftest import RunningGateway
from tests.gateway.test_realtime_through_gateway import (
    PASSWORD,
    gateway,
    next_event,
    open_socket,
    relay,
    sign_up,
)

__all__ = ["gateway", "relay"]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def closed_with(socket: ClientConnection, since: float) -> tuple[int, float]:
    """Read until the server closes; (close code, seconds since `since`)."""
    while True:
        try:
            socket.recv(timeout=20)
        except ConnectionClosed as closed:
            received = closed.rcvd
            break
    if received is None:
        pytest.fail("closed without a close frame")
    return received.code, time.monotonic() - since


def test_a_password_change_logout_all_and_a_deactivation_close_the_users_sockets_within_a_second(
    gateway: RunningGateway,
) -> None:
    with gateway.client() as client:
        _, alice = sign_up(client, "alice")
        bob_id, bob = sign_up(client, "bob")
        _, carol = sign_up(client, "carol")
        _, dave = sign_up(client, "dave")
    with (
        open_socket(gateway, alice) as alices,
        open_socket(gateway, bob) as bobs,
        open_socket(gateway, carol) as carols,
        open_socket(gateway, dave) as daves,
    ):
        with gateway.client(headers={"Authorization": f"Bearer {alice}"}) as client:
            changed = client.post(
                "/api/v1/auth/password/",
                json={"old_password": PASSWORD, "new_password": "a-New-and-unusual-passphrase-7"},
            )
        answered = time.monotonic()
        assert changed.status_code == 204, changed.text
        code, seconds = closed_with(alices, answered)
        assert code == 4401
        assert seconds < 1.0, seconds

        with gateway.client(headers={"Authorization": f"Bearer {dave}"}) as client:
            logged_out = client.post("/api/v1/auth/logout-all/")
        answered = time.monotonic()
        assert logged_out.status_code == 204, logged_out.text
        code, seconds = closed_with(daves, answered)
        assert code == 4401
        assert seconds < 1.0, seconds

        user_deactivate(user=User.objects.get(pk=bob_id))
        deactivated = time.monotonic()
        code, seconds = closed_with(bobs, deactivated)
        assert code == 4401
        assert seconds < 1.0, seconds

        # Nobody else's socket was touched.
        carols.ping().wait(timeout=20)
        with gateway.client(headers={"Authorization": f"Bearer {carol}"}) as client:
            team = client.post("/api/v1/teams/", json={"name": "Still here"}).json()["id"]
            created = client.post("/api/v1/tasks/", json={"team": team, "title": "still here"})
            assert created.status_code == 201, created.text
        assert next_event(carols, "task.created")["data"]["task"]["title"] == "still here"


def test_a_member_removed_from_a_team_stops_receiving_its_events_at_once(
    gateway: RunningGateway,
) -> None:
    with gateway.client() as client:
        _, alice = sign_up(client, "alice")
        bob_id, bob = sign_up(client, "bob")
    owner = gateway.client(headers={"Authorization": f"Bearer {alice}"})
    with owner, open_socket(gateway, alice) as alices, open_socket(gateway, bob) as bobs:
        team = owner.post("/api/v1/teams/", json={"name": "Removal"}).json()["id"]
        assert owner.post(f"/api/v1/teams/{team}/members/", json={"username": "bob"}).is_success
        next_event(bobs, "team.member_added")
        assert owner.post("/api/v1/tasks/", json={"team": team, "title": "before"}).is_success
        for socket in (alices, bobs):
            assert next_event(socket, "task.created")["data"]["task"]["title"] == "before"

        assert owner.delete(f"/api/v1/teams/{team}/members/{bob_id}/").status_code == 204
        assert next_event(bobs, "team.member_removed")["data"]["member"]["user"]["id"] == bob_id
        assert owner.post("/api/v1/tasks/", json={"team": team, "title": "after"}).is_success
        assert next_event(alices, "task.created")["data"]["task"]["title"] == "after"
        # Alice has it; Bob's socket, still open, gets nothing of the team's any more.
        with pytest.raises(TimeoutError):
            bobs.recv(timeout=1.5)
