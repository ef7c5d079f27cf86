"""A socket that stops reading is closed once its queue fills; everyone else keeps receiving."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create, task_update
from taskflow_core.teams.models import Team
from taskflow_events.payloads import DESCRIPTION_PREVIEW_CHARS
from tests.realtime.client import SocketClient
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


def update_until_dropped(realtime: Realtime, reader: SocketClient, task: Task, actor: User) -> None:
    """Update `task`'s description until realtime has dropped one of its two sockets; `reader`
    receives every update as it happens all along. An update carries three previews of the
    description (the task's, and the change's old and new), 4 bytes a character here: about
    12 KiB an event, so a stalled socket's buffers fill within a few hundred."""
    preview = "\U0001f600" * DESCRIPTION_PREVIEW_CHARS
    updates = 0
    while realtime.health().json()["connections"] == 2:
        assert updates < 1000, "the stalled socket was never dropped"
        updates += 1
        description = f"{updates}{preview}"[:DESCRIPTION_PREVIEW_CHARS]
        task_update(task_id=task.pk, actor=actor, data={"description": description})
        [frame] = reader.events(1)
        assert frame["data"]["task"]["version"] == task.version + updates


def test_a_client_that_never_reads_does_not_hold_up_the_others(
    start_realtime: Callable[..., Realtime], team: Team, alice: User, bob: User
) -> None:
    realtime = start_realtime(TASKFLOW_WS_SEND_QUEUE_SIZE="4")
    task = task_create(team=team, actor=bob, title="big")
    with realtime.client() as reader:
        reader.auth(access_token(bob))
        stalled = never_reading_socket(realtime.port, access_token(alice))
        try:
            realtime.wait_for_connections(2)
            update_until_dropped(realtime, reader, task, bob)
            assert realtime.health().json()["connections"] == 1
            task_create(team=team, actor=bob, title="after")
            [frame] = reader.events(1)
            assert frame["data"]["task"]["title"] == "after"
        finally:
            stalled.close()


def tcp_state(sock: socket.socket) -> int:
    """The kernel's TCP state of `sock` (struct tcp_info's first byte; 1 = ESTABLISHED)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


TCP_ESTABLISHED = 1
TCP_CLOSE = 7


def test_a_dropped_slow_socket_is_closed_on_the_wire_within_a_deadline(
    start_realtime: Callable[..., Realtime], team: Team, alice: User, bob: User
) -> None:
    """The close frame of a socket that stopped reading waits behind megabytes it will never
    read; the server resets the connection instead of keeping it (and its buffers) open."""
    realtime = start_realtime(TASKFLOW_WS_SEND_QUEUE_SIZE="4")
    task = task_create(team=team, actor=bob, title="big")
    with realtime.client() as reader:
        reader.auth(access_token(bob))
        stalled = never_reading_socket(realtime.port, access_token(alice))
        try:
            realtime.wait_for_connections(2)
            update_until_dropped(realtime, reader, task, bob)
            dropped_at = time.monotonic()
            while tcp_state(stalled) == TCP_ESTABLISHED:  # never read: only a reset ends it
                assert time.monotonic() - dropped_at < 30, (
                    f"the TCP connection stayed open: {realtime.process.output()[-3000:]}"
                )
                time.sleep(0.1)
            # A reset (TCP_CLOSE), not a FIN queued behind the unread data (CLOSE_WAIT).
            assert tcp_state(stalled) == TCP_CLOSE
            task_create(team=team, actor=bob, title="after")
            assert reader.events(1)[0]["data"]["task"]["title"] == "after"
            metrics = httpx.get(f"http://127.0.0.1:{realtime.port}/metrics", timeout=10).text
            assert "taskflow_ws_dropped_slow_sockets_total 1.0" in metrics
            assert "taskflow_ws_open_sockets 1.0" in metrics
            log = realtime.process.output()
            assert "dropping a slow socket" in log
            assert "did not complete its close (1013) within 2s: reset" in log
        finally:
            stalled.close()
