"""The realtime process's log calls never wait for the write (taskflow_realtime/log_queue.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from taskflow_realtime import log_queue


class BlockingHandler(logging.Handler):
    """A handler whose writes wait until `unblocked` is set, as a write to a stuck stderr does."""

    def __init__(self) -> None:
        super().__init__()
        self.unblocked = threading.Event()
        self.writing = threading.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.writing.set()
        self.unblocked.wait(10)
        self.lines.append(self.format(record))


@pytest.fixture
def stuck_handler() -> Iterator[BlockingHandler]:
    """uvicorn's logger with one handler that blocks, moved behind the queue (capacity 5)."""
    uvicorn = logging.getLogger("uvicorn")
    saved = (list(uvicorn.handlers), uvicorn.level, uvicorn.propagate)
    for existing in saved[0]:
        uvicorn.removeHandler(existing)
    handler = BlockingHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    uvicorn.addHandler(handler)
    uvicorn.setLevel(logging.INFO)
    uvicorn.propagate = False
    log_queue.install(capacity=5)
    try:
        yield handler
    finally:
        handler.unblocked.set()
        log_queue.uninstall()
        uvicorn.removeHandler(handler)
        for existing in saved[0]:
            uvicorn.addHandler(existing)
        uvicorn.setLevel(saved[1])
        uvicorn.propagate = saved[2]


def test_a_log_call_returns_while_the_write_waits_and_the_line_is_written_later(
    stuck_handler: BlockingHandler,
) -> None:
    began = time.monotonic()
    logging.getLogger("uvicorn.error").info("connection %s", "open")
    assert time.monotonic() - began < 0.5  # the handler holds its write for up to 10 s
    assert stuck_handler.lines == []

    stuck_handler.unblocked.set()
    deadline = time.monotonic() + 5
    while not stuck_handler.lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stuck_handler.lines == ["INFO connection open"]


def test_a_full_queue_drops_and_counts_instead_of_waiting(stuck_handler: BlockingHandler) -> None:
    before = log_queue.dropped()
    logging.getLogger("uvicorn.error").info("line %d", 0)
    assert stuck_handler.writing.wait(5)  # the writer has it, and waits in the handler
    began = time.monotonic()
    for number in range(1, 50):
        logging.getLogger("uvicorn.error").info("line %d", number)
    assert time.monotonic() - began < 0.5
    # Five queued behind the one being written, the other 44 dropped.
    assert log_queue.dropped() - before == 44

    stuck_handler.unblocked.set()
    log_queue.uninstall()  # writes what was queued, then gives the handlers back
    assert stuck_handler.lines == [f"INFO line {number}" for number in range(6)]
    assert stuck_handler in logging.getLogger("uvicorn").handlers


def test_exceptions_keep_their_traceback(stuck_handler: BlockingHandler) -> None:
    stuck_handler.unblocked.set()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("failed")
    log_queue.uninstall()
    [line] = stuck_handler.lines
    assert line.startswith("ERROR failed\nTraceback")
    assert "ValueError: boom" in line


def test_every_handler_of_a_logger_moves_behind_the_queue_and_comes_back() -> None:
    """Two handlers on one logger: each writes each line once, and both are given back."""
    uvicorn = logging.getLogger("uvicorn")
    saved = (list(uvicorn.handlers), uvicorn.level, uvicorn.propagate)
    for existing in saved[0]:
        uvicorn.removeHandler(existing)
    first, second = BlockingHandler(), BlockingHandler()
    for handler in (first, second):
        handler.unblocked.set()
        uvicorn.addHandler(handler)
    uvicorn.setLevel(logging.INFO)
    uvicorn.propagate = False
    try:
        log_queue.install()
        [queued] = uvicorn.handlers
        assert isinstance(queued, log_queue.DroppingQueueHandler)
        logging.getLogger("uvicorn.error").info("once")
        log_queue.uninstall()
        assert first.lines == ["once"]
        assert second.lines == ["once"]
        assert uvicorn.handlers == [first, second]
    finally:
        log_queue.uninstall()
        for handler in (first, second):
            uvicorn.removeHandler(handler)
        for existing in saved[0]:
            uvicorn.addHandler(existing)
        uvicorn.setLevel(saved[1])
        uvicorn.propagate = saved[2]
