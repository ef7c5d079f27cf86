"""/ws through the gateway: open sockets and new sockets per second per client address are
capped (429, after a bounded wait for the rate), and a token a careless client puts in the /ws
URL reaches neither nginx's log nor the realtime process's."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pytest_django import DjangoDbBlocker
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from taskflow_core.accounts.models import User
from taskflow_deploy.commands import realtime_command
from tests.gateway.conftest import StartGateway, realtime_env, wait_until_ok
from tests.realtime.conftest import access_token
from tests.support.processes import ServerProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def realtime_at_info(django_db_blocker: DjangoDbBlocker) -> Iterator[ServerProcess]:
    """One realtime process at the default log level (info), as `make run` runs it."""
    port = free_port()
    env = realtime_env(django_db_blocker) | {"LOG_LEVEL": "INFO"}
    with ServerProcess(realtime_command(port), env=env, port=port, startup_timeout=60) as process:
        wait_until_ok(f"http://127.0.0.1:{port}/health")
        yield process


def authenticated(url: str, token: str) -> ClientConnection:
    socket = connect(url, open_timeout=20, close_timeout=5, legacy=True)
    socket.send(json.dumps({"type": "auth", "token": token, "last_event_id": None}))
    assert json.loads(socket.recv(timeout=20))["type"] == "ready"
    return socket


def test_sockets_per_client_address_are_capped_at_the_gateway(
    start_gateway: StartGateway, core: str, realtime: list[str]
) -> None:
    gateway = start_gateway([core], realtime, ws_connections_per_address=3)
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            stack.enter_context(connect(gateway.ws_url, open_timeout=20))
        with pytest.raises(InvalidStatus) as refused:
            connect(gateway.ws_url, open_timeout=20)
        assert refused.value.response.status_code == 429
    # Closed sockets free their places.
    with connect(gateway.ws_url, open_timeout=20) as socket:
        socket.ping().wait(timeout=20)


def test_new_sockets_per_client_address_are_rate_limited_at_the_gateway(
    start_gateway: StartGateway, core: str, realtime: list[str]
) -> None:
    gateway = start_gateway(
        [core], realtime, ws_handshake_rate="1r/m", ws_handshake_burst=3, ws_handshake_queue=0
    )
    statuses = []
    for _ in range(6):
        try:
            with connect(gateway.ws_url, open_timeout=20):
                statuses.append(101)
        except InvalidStatus as refused:
            statuses.append(refused.response.status_code)
    assert statuses == [101] * 4 + [429] * 2  # the first, then the burst of 3


def test_handshakes_past_the_burst_wait_for_the_rate_before_any_is_refused(
    start_gateway: StartGateway, core: str, realtime: list[str]
) -> None:
    """Seven at once at 1/s with a burst of 2 and a queue of 2: three open at once, two a second
    and two seconds later, and only the last two are refused (at once, not after a wait)."""
    gateway = start_gateway(
        [core], realtime, ws_handshake_rate="1r/s", ws_handshake_burst=2, ws_handshake_queue=2
    )
    start = threading.Barrier(7)
    outcomes: list[tuple[int, float]] = []

    def one() -> None:
        start.wait()
        began = time.monotonic()
        try:
            with connect(gateway.ws_url, open_timeout=20):
                status = 101
        except InvalidStatus as refused:
            status = refused.response.status_code
        outcomes.append((status, time.monotonic() - began))

    threads = [threading.Thread(target=one) for _ in range(7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    opened = sorted(elapsed for status, elapsed in outcomes if status == 101)
    refused = [elapsed for status, elapsed in outcomes if status == 429]
    assert len(opened) == 5, outcomes
    assert len(refused) == 2, outcomes
    assert max(opened[:3]) < 0.8, outcomes
    assert max(refused) < 0.8, outcomes
    assert 0.9 <= opened[3] < 1.8, outcomes
    assert 1.9 <= opened[4] < 2.8, outcomes


def test_a_token_in_the_ws_url_reaches_no_log(
    start_gateway: StartGateway,
    core: str,
    realtime_at_info: ServerProcess,
    make_user: Callable[..., User],
) -> None:
    gateway = start_gateway([core], [f"127.0.0.1:{realtime_at_info.port}"])
    token = access_token(make_user("carol"))
    direct = f"ws://127.0.0.1:{realtime_at_info.port}/ws"
    for url in (f"{gateway.ws_url}?token={token}", f"{direct}?access_token={token}&x=1"):
        with authenticated(url, token):
            pass
    nginx_log = gateway.access_log_with("GET /ws HTTP/1.1")
    # The realtime process writes its log from a thread of its own (log_queue.py): a moment.
    deadline = time.monotonic() + 10
    realtime_log = realtime_at_info.output()
    while realtime_log.count('"WebSocket /ws" [accepted]') < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        realtime_log = realtime_at_info.output()
    # The handshakes were logged (so the check below looked at real lines), without the query.
    assert realtime_log.count('"WebSocket /ws" [accepted]') >= 2, realtime_log[-2000:]
    for log in (nginx_log, realtime_log):
        assert token not in log
        assert token.split(".")[2] not in log
        assert "token=" not in log
