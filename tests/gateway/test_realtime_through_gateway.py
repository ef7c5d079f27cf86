"""The product's promise end to end, through one public port: register, log in, assign a task,
and the assignee's socket (opened through nginx) receives the notification, whichever of two
realtime processes it landed on."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.gateway.conftest import RunningGateway, StartGateway
from tests.support.processes import ServerProcess, service_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-and-unusual-passphrase-42"
DEADLINE = 20.0


@pytest.fixture
def relay(django_db_blocker: Any) -> Iterator[ServerProcess]:
    """The outbox relay, as `make run` runs it (re-sends whatever a crash left unsent)."""
    with django_db_blocker.unblock():
        env = service_env()
    with ServerProcess([sys.executable, "manage.py", "relay_outbox"], env=env) as process:
        yield process


@pytest.fixture
def gateway(
    start_gateway: StartGateway, core: str, realtime: list[str], relay: ServerProcess
) -> RunningGateway:
    return start_gateway([core], realtime)


def sign_up(client: httpx.Client, username: str) -> tuple[int, str]:
    registered = client.post(
        "/api/v1/auth/register/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    tokens = client.post("/api/v1/auth/token/", json={"username": username, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return int(registered.json()["id"]), str(tokens.json()["access"])


@contextlib.contextmanager
def open_socket(gateway: RunningGateway, token: str) -> Iterator[ClientConnection]:
    with connect(gateway.ws_url, open_timeout=DEADLINE) as socket:
        socket.send(json.dumps({"type": "auth", "token": token, "last_event_id": None}))
        ready = json.loads(socket.recv(timeout=DEADLINE))
        assert ready["type"] == "ready"
        yield socket


def next_event(socket: ClientConnection, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while True:
        frame = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame.get("type") == "event" and frame["event"] == name:
            return dict(frame)


def assign_a_task(gateway: RunningGateway) -> tuple[str, str, int, int, list[str]]:
    """Alice and Bob sign up through the gateway; Alice's team has Bob in it."""
    client = gateway.client()
    _, alice = sign_up(client, "alice")
    bob_id, bob = sign_up(client, "bob")
    team = client.post(
        "/api/v1/teams/", json={"name": "Gateway"}, headers={"Authorization": f"Bearer {alice}"}
    )
    assert team.status_code == 201, team.text
    added = client.post(
        f"/api/v1/teams/{team.json()['id']}/members/",
        json={"username": "bob"},
        headers={"Authorization": f"Bearer {alice}"},
    )
    assert added.status_code == 201, added.text
    client.close()
    return alice, bob, bob_id, int(team.json()["id"]), [alice, bob]


def create_and_assign(gateway: RunningGateway, alice: str, team: int, bob_id: int) -> int:
    with gateway.client(headers={"Authorization": f"Bearer {alice}"}) as client:
        created = client.post("/api/v1/tasks/", json={"team": team, "title": "Ship the gateway"})
        assert created.status_code == 201, created.text
        task_id = int(created.json()["id"])
        assigned = client.patch(f"/api/v1/tasks/{task_id}/", json={"assignee": bob_id})
        assert assigned.status_code == 200, assigned.text
        return task_id


def test_assignment_reaches_the_assignees_socket_through_the_gateway(
    gateway: RunningGateway,
) -> None:
    alice, bob, bob_id, team, tokens = assign_a_task(gateway)
    with open_socket(gateway, bob) as socket:
        task_id = create_and_assign(gateway, alice, team, bob_id)
        frame = next_event(socket, "notification.created")
    notification = frame["data"]["notification"]
    assert notification["type"] == "task_assigned"
    assert notification["task"] == task_id
    assert frame["team"] == team

    with gateway.client(headers={"Authorization": f"Bearer {bob}"}) as client:
        inbox = client.get("/api/v1/notifications/")
    assert inbox.status_code == 200
    assert [item["id"] for item in inbox.json()["results"]] == [notification["id"]]

    log = gateway.access_log_with("GET /ws HTTP/1.1")
    assert "GET /ws HTTP/1.1" in log
    for token in tokens:
        assert token not in log


def test_two_realtime_processes_behind_the_gateway_both_deliver(
    gateway: RunningGateway, realtime: list[str]
) -> None:
    alice, bob, bob_id, team, _ = assign_a_task(gateway)
    # least_conn with a shared zone puts the second open socket on the other process.
    with open_socket(gateway, bob) as first, open_socket(gateway, bob) as second:
        create_and_assign(gateway, alice, team, bob_id)
        received = [next_event(socket, "notification.created") for socket in (first, second)]
    assert received[0]["id"] == received[1]["id"]
    assert received[0]["data"]["notification"]["type"] == "task_assigned"

    # nginx logs each socket when it closes, with the upstream that carried it.
    deadline = time.monotonic() + DEADLINE
    upstreams: set[str] = set()
    while time.monotonic() < deadline and len(upstreams) < 2:
        upstreams = {
            line.rsplit("upstream=", 1)[1].strip()
            for line in gateway.access_log().splitlines()
            if "GET /ws HTTP/1.1" in line
        }
        time.sleep(0.1)
    assert upstreams == set(realtime)
