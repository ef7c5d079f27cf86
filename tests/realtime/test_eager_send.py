"""`EagerSender` over a fake send whose every call the test lets finish, suspend, fail or hang.

The fake stands where uvicorn's WebSocket send stands: it completes at once while the peer reads,
and waits on a future (the transport's drain) while it does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from taskflow_realtime.eager_send import EagerSender


class FakeSend:
    """Records what was sent; a frame with a gate waits for it before it counts as sent."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.sent: list[str] = []
        self.cancelled: list[str] = []
        self.gates: dict[str, asyncio.Future[None]] = {}
        self.fail_at_once: set[str] = set()
        self.bare_yields: dict[str, int] = {}

    def gate(self, frame: str) -> asyncio.Future[None]:
        self.gates[frame] = asyncio.get_running_loop().create_future()
        return self.gates[frame]

    async def __call__(self, frame: str) -> None:
        self.started.append(frame)
        if frame in self.fail_at_once:
            raise ConnectionResetError("peer gone")
        for _ in range(self.bare_yields.get(frame, 0)):
            await asyncio.sleep(0)  # a bare yield, as a send on a closing transport does
        gate = self.gates.get(frame)
        if gate is not None:
            try:
                await gate
            except asyncio.CancelledError:
                self.cancelled.append(frame)
                raise
        self.sent.append(frame)


class Sender(EagerSender):
    __slots__ = ("failures",)

    def __init__(self, send: FakeSend, limit: int = 3, limit_bytes: int | None = None) -> None:
        super().__init__(send, limit=limit, limit_bytes=limit_bytes)
        self.failures = 0

    def _send_failed(self) -> None:
        self.failures += 1


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await test()

    asyncio.run(bounded())


async def until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110  (polls the fake's state: it has no event)
        await asyncio.sleep(0)


async def one_loop_turn() -> None:
    """The sender task created by a push runs its first step before this returns: from then
    on the suspended send waits inside the task."""
    await asyncio.sleep(0)


def other_tasks() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


def test_a_send_that_completes_at_once_is_sent_before_push_returns_without_a_task() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send)
        tasks_before = other_tasks()
        sender.stop()  # stopping an idle sender changes nothing
        for frame in ("a", "b", "c"):
            assert sender.push(frame)
            assert send.sent[-1] == frame  # already sent, nothing awaited
        assert other_tasks() == tasks_before
        assert sender.failures == 0

    run(scenario)


def test_a_suspended_send_finishes_then_the_frames_behind_it_go_in_order() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send)
        gate = send.gate("a")
        assert sender.push("a")
        assert sender.push("b")
        assert sender.push("c")
        assert send.started == ["a"]
        assert send.sent == []
        assert len(other_tasks()) == 1  # the one task that finishes a and drains the queue

        gate.set_result(None)
        await until(lambda: not other_tasks())
        assert send.sent == ["a", "b", "c"]

        assert sender.push("d")  # nothing waits any more: sent at once again, no task
        assert send.sent == ["a", "b", "c", "d"]
        assert not other_tasks()

    run(scenario)


def test_a_frame_pushed_while_the_queue_drains_keeps_its_place() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send)
        gate_a, gate_b = send.gate("a"), send.gate("b")
        for frame in ("a", "b", "c"):
            sender.push(frame)
        gate_a.set_result(None)
        await until(lambda: send.started[-1] == "b")  # a is done, b is waiting in the task
        assert sender.push("d")
        gate_b.set_result(None)
        await until(lambda: not other_tasks())
        assert send.sent == ["a", "b", "c", "d"]

    run(scenario)


def test_bare_yields_inside_the_send_are_handed_to_the_task() -> None:
    async def scenario() -> None:
        send = FakeSend()
        send.bare_yields["a"] = 3
        sender = Sender(send)
        sender.push("a")
        sender.push("b")
        assert send.sent == []
        await until(lambda: not other_tasks())
        assert send.sent == ["a", "b"]

    run(scenario)


def test_at_most_limit_frames_wait_behind_a_suspended_send() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send, limit=2)
        gate = send.gate("a")
        assert sender.push("a")
        assert sender.push("b")
        assert sender.push("c")
        assert not sender.push("d")  # refused: two already wait
        gate.set_result(None)
        await until(lambda: not other_tasks())
        assert send.sent == ["a", "b", "c"]

    run(scenario)


def test_at_most_limit_bytes_wait_behind_a_suspended_send_and_sending_frees_them() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send, limit=100, limit_bytes=10)
        gate = send.gate("a" * 50)  # the frame being sent does not count: it is on its way
        assert sender.push("a" * 50)
        assert sender.push("b" * 6)
        assert sender.push("c" * 4)
        assert not sender.push("d")  # refused: ten characters already wait
        gate.set_result(None)
        await until(lambda: not other_tasks())
        assert send.sent == ["a" * 50, "b" * 6, "c" * 4]
        # Sent, they no longer count: the budget is whole again behind the next slow send.
        gate = send.gate("e")
        assert sender.push("e")
        assert sender.push("f" * 10)
        assert not sender.push("g")
        gate.set_result(None)
        await until(lambda: not other_tasks())
        assert send.sent[-2:] == ["e", "f" * 10]

    run(scenario)


def test_stop_cancels_the_suspended_send_inside_it_and_drops_the_queue() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send)
        send.gate("a")
        sender.push("a")
        sender.push("b")
        await one_loop_turn()
        (task,) = other_tasks()

        sender.stop()
        await asyncio.wait({task}, timeout=10)
        assert task.cancelled()
        assert send.cancelled == ["a"]  # the cancellation reached the send itself
        assert send.sent == []
        assert send.started == ["a"]
        assert sender.failures == 0  # cancelling is not a failed send

    run(scenario)


@pytest.mark.parametrize("yields_after_cancel", [0, 1])
def test_a_send_that_swallows_the_cancellation_is_resumed_to_its_end(
    yields_after_cancel: int,
) -> None:
    async def scenario() -> None:
        finished: list[str] = []
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def stubborn(frame: str) -> None:
            try:
                await gate
            except asyncio.CancelledError:
                for _ in range(yields_after_cancel):
                    await asyncio.sleep(0)  # still flushing, then ends
            finished.append(frame)

        sender = Sender(FakeSend())
        sender._send = stubborn
        sender.push("a")
        await one_loop_turn()
        (task,) = other_tasks()
        sender.stop()
        await asyncio.wait({task}, timeout=10)
        assert finished == ["a"]

    run(scenario)


def test_the_peer_vanishing_at_once_is_reported_and_the_next_push_tries_again() -> None:
    async def scenario() -> None:
        send = FakeSend()
        send.fail_at_once.add("a")
        sender = Sender(send)
        assert sender.push("a")
        assert sender.failures == 1
        assert not other_tasks()
        sender.push("b")
        assert send.sent == ["b"]

    run(scenario)


def test_the_peer_vanishing_mid_send_is_reported_once_and_the_queue_is_not_sent() -> None:
    async def scenario() -> None:
        send = FakeSend()

        class Owner(Sender):
            __slots__ = ()

            def _send_failed(self) -> None:
                self.failures += 1
                self.stop()  # what Connection does, from within the sender task: no-op cancel

        sender = Owner(send)
        gate = send.gate("a")
        sender.push("a")
        sender.push("b")
        await one_loop_turn()
        (task,) = other_tasks()
        gate.set_exception(ConnectionResetError("peer gone"))
        await asyncio.wait({task}, timeout=10)
        assert not task.cancelled()
        assert task.exception() is None
        assert sender.failures == 1
        assert send.sent == []
        assert send.started == ["a"]
        assert sender.push("c")  # the sender is idle again: c is sent at once
        assert send.sent == ["c"]

    run(scenario)


def test_the_frames_behind_a_failed_send_are_dropped_even_without_stop() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send)
        gate = send.gate("a")
        sender.push("a")
        sender.push("b")
        gate.set_exception(ConnectionResetError("peer gone"))
        await until(lambda: not other_tasks())
        assert sender.failures == 1
        send.gate("c")
        sender.push("c")  # suspends: were b still queued, the task would send it after c
        sender.push("d")
        send.gates["c"].set_result(None)
        await until(lambda: not other_tasks())
        assert send.sent == ["c", "d"]

    run(scenario)


def test_stop_before_the_sender_task_ran_sends_nothing_more() -> None:
    async def scenario() -> None:
        send = FakeSend()
        sender = Sender(send)
        send.gate("a")
        sender.push("a")
        sender.push("b")
        (task,) = other_tasks()
        sender.stop()  # same loop turn: the task never started
        await asyncio.wait({task}, timeout=10)
        assert task.cancelled()
        assert send.sent == []
        assert send.started == ["a"]
        assert sender.failures == 0

    run(scenario)
