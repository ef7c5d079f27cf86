"""How long a request may wait on Redis, whatever Redis does (docs/reliability.md).

Everything the request path asks of Redis — the after-commit event publish, handing an email to
Celery, the cache behind the throttles — goes through one `RedisGuard`:

- every operation runs with connect and read timeouts of half the budget and no retries
  (`op_timeout`), so a refused, frozen or slow Redis costs one bounded wait;
- a request starts an operation only while at least `op_timeout` of its budget
  (`TASKFLOW_REQUEST_REDIS_BUDGET_MS`, default 50 ms: time spent waiting on Redis, summed over
  the request's operations) is left, so a request's total wait never exceeds the budget (but
  for a large team's event, whose publish may wait longer: `publishing.hook_timeout`);
- after a failure the breaker is open for `TASKFLOW_REQUEST_REDIS_SUSPEND_MS` (1 s): every
  request skips Redis at once, so a freeze costs one request one timeout, not every request.

A skipped operation is never lost: events stay in the outbox for the relay, emails stay pending
for the dispatch sweep, and a throttle that cannot count lets the request through (logged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from taskflow_core.common.breaker import CircuitBreaker

logger = logging.getLogger(__name__)


class RedisGuard:
    """Per-request Redis budget plus a shared breaker. The clock is injectable for tests."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.breaker = CircuitBreaker(open_seconds=1.0, clock=clock)
        # Seconds this request has waited on Redis so far (a one-element list: mutable, so
        # that code run inside the request adds to the request's own total).
        self._spent: ContextVar[list[float] | None] = ContextVar("redis_spent", default=None)

    @property
    def budget_seconds(self) -> float:
        return float(settings.TASKFLOW_REQUEST_REDIS_BUDGET_MS) / 1000

    @property
    def op_timeout(self) -> float:
        """Connect timeout and read timeout of one operation (each)."""
        return self.budget_seconds / 2

    @contextmanager
    def request(self) -> Iterator[None]:
        """A fresh budget for the request this block serves."""
        token = self._spent.set([0.0])
        try:
            yield
        finally:
            self._spent.reset(token)

    def in_request(self) -> bool:
        return self._spent.get() is not None

    def permits(self, *, own_breaker: bool = True) -> bool:
        """May an operation start now? (Outside a request only the breaker decides.)"""
        if own_breaker and self.breaker.is_open:
            return False
        spent = self._spent.get()
        return spent is None or spent[0] + self.op_timeout <= self.budget_seconds

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Count the block's time against the request's budget."""
        started = self.clock()
        try:
            yield
        finally:
            spent = self._spent.get()
            if spent is not None:
                spent[0] += self.clock() - started

    def failed(self, what: str, error: BaseException) -> None:
        self.breaker.open_seconds = float(settings.TASKFLOW_REQUEST_REDIS_SUSPEND_MS) / 1000
        self.breaker.record_failure()
        logger.warning(
            "redis: %s failed (%s: %s); skipping Redis on the request path for %.1fs",
            what,
            type(error).__name__,
            error,
            self.breaker.open_seconds,
        )

    def reset(self) -> None:
        self.breaker.reset()


# The one guard of this process (tests reset it between tests).
redis_guard = RedisGuard()


class RedisBudgetMiddleware:
    """Starts each request's Redis budget (first in MIDDLEWARE, so it covers everything)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with redis_guard.request():
            return self.get_response(request)
