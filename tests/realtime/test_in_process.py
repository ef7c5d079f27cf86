"""The hub, the connections and `/ws` in-process: the real app and Redis, the test as the peer.

These run the same code as the uvicorn integration tests, in the test's own event loop, so that
a slow peer can be made exactly (its sends wait until it reads again) and the service's modules
are measured by coverage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvloop

from taskflow_core.accounts.models import User
from taskflow_events.keys import user_index_key
from taskflow_realtime.connection import CLOSE_BAD_FRAME, CLOSE_TOO_SLOW, CLOSE_UNAUTHORIZED
from taskflow_realtime.settings import get_settings
from tests.realtime.asgi import AsgiSocket, encoded_event, hub_of, running_app, until
from tests.realtime.conftest import access_token
from tests.support.processes import free_port

Scenario = Callable[[], Awaitable[None]]


@pytest.fixture
def app_env(event_stream: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The app's settings from this test's environment (its own stream)."""
    monkeypatch.setenv("TASKFLOW_EVENT_STREAM", event_stream)
    # The test process's logging stays as pytest set it up (caplog reads it synchronously).
    monkeypatch.setenv("TASKFLOW_REALTIME_LOG_QUEUE", "false")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def run(scenario: Scenario) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(50):
            await scenario()

    # uvloop, as under uvicorn in production.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(bounded())


def token(user_id: int, lifetime: timedelta | None = None, **claims: Any) -> str:
    return access_token(User(id=user_id, username=f"user{user_id}"), lifetime, **claims)


async def publish(app: Any, recipients: str, task_id: int) -> str:
    """Append an entry as the core's publisher does: the encoded event and its recipients in
    the stream, and its id in each recipient's index (docs/events.md "Layout")."""
    stream = app.state.socket_services.settings.event_stream
    entry_id: str = await app.state.redis.xadd(
        stream, {"e": encoded_event(task_id), "r": recipients}
    )
    for user_id in recipients.split(","):
        await app.state.redis.xadd(user_index_key(stream, user_id), {"p": "1"}, id=entry_id)
    return entry_id


def task_ids(frames: list[dict[str, Any]]) -> list[int]:
    return [frame["data"]["task"]["id"] for frame in frames]


def test_sockets_join_the_hub_on_auth_and_leave_it_on_disconnect(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            hub = hub_of(app)
            first = await AsgiSocket(app).open()
            assert hub.connection_count == 0  # not before a valid `auth`
            await first.auth(token(1))
            second = await AsgiSocket(app).open()
            await second.auth(token(1))  # the same user twice: two sockets
            assert hub.connection_count == 2
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client:
                health = await client.get("/health")
            assert health.status_code == 200
            assert health.json() == {
                "status": "ok",
                "redis": "ok",
                "connections": 2,
                "replay": {"replays": 0, "resyncs": 0, "entries_read": 0},
            }

            await first.disconnect()
            assert hub.connection_count == 1
            await second.disconnect()
            assert hub.connection_count == 0

    run(scenario)


def test_each_entry_reaches_exactly_the_sockets_of_its_recipients(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            alice, bob, carol = [await AsgiSocket(app).open() for _ in range(3)]
            alice_again = await AsgiSocket(app).open()
            for socket, user in ((alice, 1), (bob, 2), (carol, 3), (alice_again, 1)):
                await socket.auth(token(user))

            first = await publish(app, "1,3", 100)
            await publish(app, "", 101)  # nobody's: offered to no socket
            await publish(app, "42", 102)  # someone connected elsewhere
            await publish(app, "2", 103)

            assert [f["id"] for f in await alice.events(1)] == [first]
            assert task_ids(await alice_again.events(1)) == [100]
            assert task_ids(await carol.events(1)) == [100]
            assert task_ids(await bob.events(1)) == [103]  # 100 to 102 never reached bob
            await publish(app, "1", 104)
            assert task_ids(await alice.events(1)) == [104]  # nothing in between for alice
            for socket in (alice, bob, carol, alice_again):
                await socket.disconnect()

    run(scenario)


def test_a_socket_receives_its_events_in_stream_order(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            socket = await AsgiSocket(app).open()
            await socket.auth(token(5))
            ids = [await publish(app, "5", task_id) for task_id in range(60)]
            frames = await socket.events(60)
            assert [frame["id"] for frame in frames] == ids
            assert task_ids(frames) == list(range(60))
            await socket.disconnect()

    run(scenario)


def test_a_peer_that_pauses_gets_everything_in_order_when_it_reads_again(
    app_env: Any,
) -> None:
    """The suspended send is finished in a task, which then drains the queue behind it."""
    app_env.setenv("TASKFLOW_WS_SEND_QUEUE_SIZE", "8")

    async def scenario() -> None:
        async with running_app() as app:
            slow = await AsgiSocket(app).open()
            await slow.auth(token(7))
            slow.stop_reading()
            for task_id in range(9):  # one send waiting plus a full queue of eight
                await publish(app, "7", task_id)
            await until(lambda: slow.sends_waiting == 1 and _queued(app, 7) == 8)
            slow.resume_reading()
            assert task_ids(await slow.events(9)) == list(range(9))
            assert hub_of(app).connection_count == 1  # still connected
            await publish(app, "7", 9)  # and back to sending at once
            assert task_ids(await slow.events(1)) == [9]
            await slow.disconnect()

    run(scenario)


def _queued(app: Any, user_id: int) -> int:
    (connection,) = hub_of(app)._by_user[user_id]
    return len(connection._pending or ())


def test_a_peer_that_falls_a_queue_behind_is_closed_and_nobody_else_waits(
    app_env: Any,
) -> None:
    app_env.setenv("TASKFLOW_WS_SEND_QUEUE_SIZE", "4")

    async def scenario() -> None:
        async with running_app() as app:
            slow, fast = await AsgiSocket(app).open(), await AsgiSocket(app).open()
            await slow.auth(token(7))
            await fast.auth(token(8))
            slow.stop_reading()
            for task_id in range(6):  # one waiting send, four queued, the sixth overflows
                await publish(app, "7,8", task_id)
            assert task_ids(await fast.events(6)) == list(range(6))
            await until(lambda: hub_of(app).connection_count == 1)  # left the hub at once
            await publish(app, "7,8", 6)
            assert task_ids(await fast.events(1)) == [6]
            slow.resume_reading()
            assert await slow.closed() == CLOSE_TOO_SLOW
            await slow.disconnect()
            await fast.disconnect()

    run(scenario)


def test_a_reconnect_replays_the_missed_events_then_goes_live(app_env: Any) -> None:
    app_env.setenv("TASKFLOW_REPLAY_PAGE_SIZE", "2")  # several pages

    async def scenario() -> None:
        async with running_app() as app:
            seen = await publish(app, "3", 0)
            for task_id in range(1, 6):
                await publish(app, "3" if task_id % 2 else "4", task_id)
            socket = await AsgiSocket(app).open()
            await socket.auth(token(3), last_event_id=seen)
            assert task_ids(await socket.events(3)) == [1, 3, 5]
            await publish(app, "3", 6)
            assert task_ids(await socket.events(1)) == [6]
            await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize("last_event_id", ["not-an-id", "0-1", "99999999999999-0"])
def test_an_id_that_cannot_be_caught_up_from_gets_resync_then_live_events(
    app_env: Any, last_event_id: str
) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            witness = await AsgiSocket(app).open()
            await witness.auth(token(3))
            await publish(app, "3", 0)
            await publish(app, "3", 1)
            await witness.events(2)  # the reader is past both: they are not live any more
            await app.state.redis.xtrim(
                app.state.socket_services.settings.event_stream, maxlen=1, approximate=False
            )
            socket = await AsgiSocket(app).open()
            await socket.auth(token(3), last_event_id=last_event_id)
            assert (await socket.next())["type"] == "resync"
            await publish(app, "3", 2)
            assert task_ids(await socket.events(1)) == [2]
            await socket.disconnect()
            await witness.disconnect()

    run(scenario)


def test_a_bad_token_closes_with_4401(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            socket = await AsgiSocket(app).open()
            socket.send('{"type": "auth", "token": "not-a-jwt"}')
            assert await socket.closed() == CLOSE_UNAUTHORIZED
            assert hub_of(app).connection_count == 0
            await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize("first_frame", ["not json", '{"type": "hello"}'])
def test_a_malformed_first_frame_closes_with_4400(app_env: Any, first_frame: str) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            socket = await AsgiSocket(app).open()
            socket.send(first_frame)
            assert await socket.closed() == CLOSE_BAD_FRAME
            assert hub_of(app).connection_count == 0
            await socket.disconnect()

    run(scenario)


def test_a_binary_first_frame_closes_with_4400(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            socket = await AsgiSocket(app).open()
            socket.send_bytes(b"\x00")
            assert await socket.closed() == CLOSE_BAD_FRAME
            await socket.disconnect()

    run(scenario)


def test_no_auth_within_the_timeout_closes_with_4401(app_env: Any) -> None:
    app_env.setenv("TASKFLOW_WS_AUTH_TIMEOUT_SECONDS", "0.2")

    async def scenario() -> None:
        async with running_app() as app:
            socket = await AsgiSocket(app).open()
            assert await socket.closed() == CLOSE_UNAUTHORIZED
            await socket.disconnect()

    run(scenario)


def test_after_ready_a_binary_frame_closes_with_4400_and_leaves_the_hub(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            socket = await AsgiSocket(app).open()
            await socket.auth(token(3))
            socket.send_bytes(b"\x00")
            assert await socket.closed() == CLOSE_BAD_FRAME
            assert hub_of(app).connection_count == 0
            await socket.disconnect()

    run(scenario)


def test_a_token_of_another_user_after_ready_closes_with_4401(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            socket = await AsgiSocket(app).open()
            await socket.auth(token(3))
            socket.send({"type": "auth", "token": token(4)})
            assert await socket.closed() == CLOSE_UNAUTHORIZED
            assert hub_of(app).connection_count == 0
            await socket.disconnect()

    run(scenario)


def test_the_socket_closes_when_its_token_expires_unless_refreshed(app_env: Any) -> None:
    async def scenario() -> None:
        async with running_app() as app:
            refreshed, expiring = await AsgiSocket(app).open(), await AsgiSocket(app).open()
            await refreshed.auth(token(3, lifetime=timedelta(seconds=2)))
            await expiring.auth(token(4, lifetime=timedelta(seconds=2)))
            refreshed.send({"type": "auth", "token": token(3)})  # an hour more
            assert await expiring.closed() == CLOSE_UNAUTHORIZED
            await expiring.disconnect()
            await publish(app, "3", 1)  # the refreshed socket is still delivering
            assert task_ids(await refreshed.events(1)) == [1]
            assert hub_of(app).connection_count == 1
            await refreshed.disconnect()

    run(scenario)


def test_without_redis_the_app_starts_reports_503_and_its_reader_keeps_retrying(
    app_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app_env.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    async def scenario() -> None:
        async with running_app() as app:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client:
                health = await client.get("/health")
            assert health.status_code == 503
            assert health.json() == {
                "status": "unavailable",
                "redis": "unreachable",
                "connections": 0,
                "replay": {"replays": 0, "resyncs": 0, "entries_read": 0},
            }
            await until(lambda: "retrying in 0.2s" in caplog.text)  # backing off, still alive

    run(scenario)
