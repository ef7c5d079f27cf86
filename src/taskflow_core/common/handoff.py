"""Handing a call that talks to Redis (a Celery enqueue) off the request thread.

kombu and redis-py wait, retry and reconnect on their own schedule, so a Celery `delay` has no
timeout a request could rely on. On the request path the call runs on a small pool of
background threads instead, and the request waits for it only as long as the Redis guard
allows (`RedisGuard.op_timeout`, counted against the request's budget); if it is not done by
then, the request goes on and the call finishes (or fails) in the background. A timeout alone
opens no breaker (the first enqueue of a process is slow while kombu connects): a frozen broker
holds the threads, and once all are held the call is not made at all. A call that raises opens
the hand-off's own breaker for a second.
The caller must have a durable fallback for that (emails: the row stays pending and the sweep
queues it). Outside a request (a Celery job, a command) the call simply runs in place.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from taskflow_core.common.breaker import CircuitBreaker
from taskflow_core.common.redis_guard import RedisGuard, redis_guard

logger = logging.getLogger(__name__)


class HandOff:
    def __init__(self, *, guard: RedisGuard, threads: int = 4) -> None:
        self.guard = guard
        self.threads = threads
        self._slots = threading.BoundedSemaphore(threads)
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self.breaker = CircuitBreaker(open_seconds=1.0, clock=guard.clock)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:  # created on first use, i.e. in the gunicorn worker, after the fork
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="handoff")
            return self._executor

    def call(self, what: str, function: Callable[[], object]) -> bool:
        """Run `function`; True when it finished in time without raising."""
        if not self.guard.in_request():
            try:
                function()
            except Exception:
                logger.exception("%s failed", what)
                return False
            return True
        if (
            self.breaker.is_open
            or not self.guard.permits(own_breaker=False)
            or not self._slots.acquire(blocking=False)
        ):
            logger.warning("%s skipped: Redis is not answering in time", what)
            return False
        future: Future[object] = self._pool().submit(function)
        future.add_done_callback(lambda _: self._slots.release())
        try:
            with self.guard.waiting():
                future.result(timeout=self.guard.op_timeout)
        except FutureTimeout:
            logger.warning(
                "%s: not done in %.3fs; it goes on in the background", what, self.guard.op_timeout
            )
            return False
        except Exception as error:
            self.breaker.record_failure()
            logger.warning("%s failed (%s: %s)", what, type(error).__name__, error)
            return False
        return True

    def reset(self) -> None:
        self.breaker.reset()


# The one hand-off of this process.
handoff = HandOff(guard=redis_guard)
