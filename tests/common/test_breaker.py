"""The circuit breaker of after-commit publishing, on a clock the test moves by hand."""

from __future__ import annotations

from taskflow_core.common.breaker import CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_new_breaker_is_closed() -> None:
    assert not CircuitBreaker(open_seconds=1.0, clock=FakeClock()).is_open


def test_a_failure_opens_it_for_the_window_then_it_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(open_seconds=1.0, clock=clock)

    breaker.record_failure()
    assert breaker.is_open
    clock.now += 0.999
    assert breaker.is_open
    clock.now += 0.001
    assert not breaker.is_open


def test_a_failure_while_open_extends_the_window_from_that_failure() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(open_seconds=1.0, clock=clock)
    breaker.record_failure()
    clock.now += 0.5
    breaker.record_failure()
    clock.now += 0.9
    assert breaker.is_open  # 1.4 s after the first failure, 0.9 s after the second
    clock.now += 0.1
    assert not breaker.is_open


def test_reset_closes_it_at_once() -> None:
    breaker = CircuitBreaker(open_seconds=60.0, clock=FakeClock())
    breaker.record_failure()
    breaker.reset()
    assert not breaker.is_open
