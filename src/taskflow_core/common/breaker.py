"""A circuit breaker: after a failure, callers skip the failing service for a while.

Used by the request path's Redis guard (`common.redis_guard`): while Redis is failing,
requests leave their events to the relay, their emails to the sweep and skip the cache,
instead of each waiting for a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    """Closed (calls go through) until `record_failure`; then open for `open_seconds` by
    `clock`, after which the next call is tried again. The clock is injectable so tests can
    move time instead of sleeping."""

    def __init__(self, *, open_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.open_seconds = open_seconds
        self.clock = clock
        self._open_until: float | None = None

    @property
    def is_open(self) -> bool:
        return self._open_until is not None and self.clock() < self._open_until

    def record_failure(self) -> None:
        self._open_until = self.clock() + self.open_seconds

    def reset(self) -> None:
        self._open_until = None
