"""A socket that stops reading is closed once its queue fills; everyone else keeps receiving."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest
from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri

from taskflow_core.accounts.models import User
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from tests.realtime.conftest import Realtime, access_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def never_reading_socket(port: int, token: str) -> socket.socket:
    """A WebSocket client that authenticates and then never reads again (tiny receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"))
    protocol.send_request(protocol.connect())
    sock.sendall(b"".join(protocol.data_to_send()))
    while protocol.state is State.CONNECTING:
        protocol.receive_data(sock.recv(4096))
    assert protocol.state is State.OPEN
    protocol.send_text(json.dumps({"type": "auth", "token": token}).encode())
    sock.sendall(b"".join(protocol.data_to_send()))
    return sock


def test_a_client_that_never_reads_does_not_hold_up_the_others(
    start_realtime: Callable[..., Realtime], team: Team, alice: User, bob: User
) -> None:
    realtime = start_realtime(TASKFLOW_WS_SEND_QUEUE_SIZE="4")
    description = "x" * 20_000  # the longest allowed: big events fill the buffers quickly
    with realtime.client() as reader:
        reader.auth(access_token(bob))
        stalled = never_reading_socket(realtime.port, access_token(alice))
        try:
            realtime.wait_for_connections(2)
            titles: list[str] = []
            # Keep writing until the stalled socket is dropped; the reader gets every event
            # as it happens all along.
            while realtime.health().json()["connections"] == 2:
                assert len(titles) < 1500, "the stalled socket was never closed"
                titles.append(f"t{len(titles)}")
                task_create(team=team, actor=bob, title=titles[-1], description=description)
                [frame] = reader.events(1)
                assert frame["data"]["task"]["title"] == titles[-1]
            assert realtime.health().json()["connections"] == 1
            task_create(team=team, actor=bob, title="after")
            [frame] = reader.events(1)
            assert frame["data"]["task"]["title"] == "after"
        finally:
            stalled.close()
