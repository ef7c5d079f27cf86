"""Open sockets per user are capped across every realtime process (4429 past the cap); a closed
socket frees its place at once, and a crashed process's sockets stop counting within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

import pytest
import redis
import websockets
from django.conf import settings
from websockets.exceptions import ConnectionClosed

from taskflow_core.accounts.models import User
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from taskflow_events.keys import user_sockets_key
from tests.realtime.client import SocketClient
from tests.realtime.conftest import Realtime, access_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def refused_with(realtime: Realtime, token: str) -> None:
    with realtime.client() as socket:
        socket.send({"type": "auth", "token": token, "last_event_id": None})
        socket.expect_close(4429)


def opens(realtime: Realtime, token: str) -> bool:
    """Whether a socket authenticates (True) or is refused for the cap (False)."""
    with realtime.client() as socket:
        socket.send({"type": "auth", "token": token, "last_event_id": None})
        try:
            return bool(socket.next()["type"] == "ready")
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else None
    if code != 4429:
        pytest.fail(f"closed with {code}, not 4429")
    return False


def test_the_21st_socket_of_a_user_is_refused_with_4429_by_default(
    realtime: Realtime, team: Team, alice: User, bob: User
) -> None:
    with contextlib.ExitStack() as stack:
        sockets: list[SocketClient] = []
        for _ in range(20):
            socket = stack.enter_context(realtime.client())
            socket.auth(access_token(alice))
            sockets.append(socket)
        refused_with(realtime, access_token(alice))
        # Another user is not affected, and the 20 still receive events.
        with realtime.client() as other:
            other.auth(access_token(bob))
        task_create(team=team, actor=bob, title="to all twenty")
        for socket in sockets:
            [frame] = socket.events(1)
            assert frame["data"]["task"]["title"] == "to all twenty"
        # A socket that closes frees its place at once.
        sockets.pop().close()
        realtime.wait_for_connections(19)
        with realtime.client() as again:
            assert again.auth(access_token(alice))["user"] == alice.pk


def test_the_cap_holds_across_processes_and_a_crashed_process_frees_its_places(
    start_realtime: Callable[..., Realtime], alice: User
) -> None:
    options = {
        "TASKFLOW_WS_MAX_SOCKETS_PER_USER": "3",
        "TASKFLOW_WS_REGISTRY_HEARTBEAT_SECONDS": "0.5",
    }
    first, second = start_realtime(**options), start_realtime(**options)
    with first.client() as a, first.client() as b:
        a.auth(access_token(alice))
        b.auth(access_token(alice))
        doomed = second.client()
        doomed.auth(access_token(alice))
        # Three open, on two processes: the fourth is refused on either.
        refused_with(first, access_token(alice))
        refused_with(second, access_token(alice))
        # The second process dies without closing anything: its socket lapses (3 heartbeats).
        second.process.process.kill()  # type: ignore[union-attr]
        second.process.process.wait(timeout=30)  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while not opens(first, access_token(alice)):
            assert time.monotonic() < deadline, "the crashed process's socket still counts"
            time.sleep(0.5)
        with contextlib.suppress(Exception):
            doomed.close()


async def _storm(url: str, tokens: list[str], while_open: Callable[[], object]) -> list[str]:
    """A socket per token, all authenticating at once; each one's answer ("ready" or the close
    code). Admitted sockets stay open until every attempt has its answer and `while_open` has
    run."""
    answered = 0
    looked = asyncio.Event()

    async def one(token: str) -> str:
        nonlocal answered
        async with websockets.connect(url, open_timeout=60) as socket:
            await socket.send(json.dumps({"type": "auth", "token": token, "last_event_id": None}))
            try:
                outcome = str(json.loads(await asyncio.wait_for(socket.recv(), 60))["type"])
            except ConnectionClosed as closed:
                outcome = str(closed.rcvd.code if closed.rcvd is not None else None)
            answered += 1
            if answered == len(tokens):
                while_open()
                looked.set()
            await asyncio.wait_for(looked.wait(), 120)
            return outcome

    return list(await asyncio.gather(*(one(token) for token in tokens)))


def test_a_storm_of_handshakes_waits_for_redis_instead_of_admitting_uncounted(
    realtime: Realtime, event_stream: str, alice: User
) -> None:
    """More sockets authenticating at once than the service keeps Redis connections: each
    admission waits for a connection, so every admitted socket is counted at once (an admission
    that fails open is counted only from the next renewal), and one user still gets 20."""
    users = User.objects.bulk_create(
        User(username=f"storm{index}", email=f"storm{index}@example.com", password="!")
        for index in range(400)
    )
    tokens = [access_token(user) for user in users] + [access_token(alice)] * 60

    counted: dict[int, int] = {}

    def count() -> None:
        with redis.Redis.from_url(settings.REDIS_URL) as client:
            for user in [*users, alice]:
                counted[user.pk] = client.zcard(user_sockets_key(event_stream, user.pk))

    outcomes = asyncio.run(_storm(realtime.ws_url, tokens, count))

    assert outcomes[:400] == ["ready"] * 400
    assert sorted(outcomes[400:]) == ["4429"] * 40 + ["ready"] * 20
    assert counted == {user.pk: 1 for user in users} | {alice.pk: 20}
