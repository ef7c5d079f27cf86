"""The realtime process's log lines are written by a thread of their own, never by the event loop.

A log call writes its line to stderr (a file or a pipe) before it returns, and a write can wait:
for a pipe nobody drains, for a file page the kernel is writing back. In the event loop that
wait stops every socket. uvicorn logs two lines per handshake on `uvicorn.error`, so a client
opening sockets fast (the big-frame attack of the P7 benchmark: 40 a second) made the loop wait
15-50 ms inside `logging` again and again, and the well-behaved sockets' push p99 went from ~4 to
~50 ms (bench/NOTES.md, "P7"). With `install()`, a log call formats its record and puts it on a
bounded queue; one thread writes the queue to the handlers uvicorn configured. When the queue is
full (the writer is stuck, or a flood outruns it), records are dropped and counted rather than
waited for: a flood of log lines must not become a flood of memory either.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import logging.handlers
import queue

# Records waiting for the writer thread: at ~200 bytes each, a couple of MB at most.
QUEUE_RECORDS = 10_000
# How long stopping waits for the writer to write what is queued.
STOP_SECONDS = 5.0
# The loggers with handlers of their own under uvicorn's logging config, and the root (whose
# records go to `logging.lastResort` when it has none: warnings and errors, message only).
LOGGERS = ("", "uvicorn", "uvicorn.access")


class DroppingQueueHandler(logging.handlers.QueueHandler):
    """A `QueueHandler` that drops a record when the queue is full instead of raising."""

    def __init__(self, records: queue.Queue[logging.LogRecord | None]) -> None:
        super().__init__(records)
        self.dropped = 0  # counted under the handler's own lock (`Handler.handle` holds it)

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class Writer(logging.handlers.QueueListener):
    """The writer thread; `stop` waits at most STOP_SECONDS for the queue to drain (a stuck
    stderr must not hold the process's exit)."""

    def __init__(self, records: queue.Queue[logging.LogRecord | None], *handlers: logging.Handler):
        super().__init__(records, *handlers, respect_handler_level=True)
        self.records = records

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        with contextlib.suppress(queue.Full):
            self.records.put(None, timeout=STOP_SECONDS)  # QueueListener's sentinel
        thread.join(STOP_SECONDS)
        self._thread = None


_installed: list[tuple[logging.Logger, DroppingQueueHandler, Writer]] = []


def install(capacity: int = QUEUE_RECORDS) -> None:
    """Move the handlers of `LOGGERS` behind a queue and a writer thread; idempotent."""
    if _installed:
        return
    for name in LOGGERS:
        logger = logging.getLogger(name)
        handlers = list(logger.handlers)
        if not handlers:
            if name != "" or logging.lastResort is None:
                continue
            handlers = [logging.lastResort]
        records: queue.Queue[logging.LogRecord | None] = queue.Queue(capacity)
        handler = DroppingQueueHandler(records)
        listener = Writer(records, *handlers)
        for existing in list(logger.handlers):  # a copy: removing shortens the list
            logger.removeHandler(existing)
        logger.addHandler(handler)
        listener.start()
        _installed.append((logger, handler, listener))
    atexit.register(uninstall)


def dropped() -> int:
    """Records dropped so far because a queue was full."""
    return sum(handler.dropped for _, handler, _ in _installed)


def uninstall() -> None:
    """Write what is queued, stop the writer threads and give the loggers their handlers back."""
    while _installed:
        logger, handler, listener = _installed.pop()
        listener.stop()  # writes the records queued before it
        logger.removeHandler(handler)
        for original in listener.handlers:
            if original is not logging.lastResort:
                logger.addHandler(original)
