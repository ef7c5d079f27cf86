"""When `make run` may say "ready": every process answers, the Celery worker included.

HTTP health checks for core, realtime and the gateway; a Celery control `ping` to the worker's
own node name (over the broker, from a bare Celery app: no Django in this process).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping

from celery import Celery

Check = Callable[[], bool]


def http_ok(url: str) -> Check:
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local http)
                return int(response.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    return check


def celery_worker_answers(broker_url: str, node: str) -> Check:
    app = Celery("taskflow-readiness", broker=broker_url, set_as_current=False)
    app.conf.broker_connection_timeout = 2
    app.conf.broker_connection_retry = False

    def check() -> bool:
        try:
            with app.connection_for_write() as connection:
                replies = app.control.ping(destination=[node], timeout=1.0, connection=connection)
        except Exception:  # broker unreachable, or anything else: not ready yet
            return False
        return any(node in reply for reply in replies or [])

    return check


def boxed(lines: list[str]) -> str:
    width = max(len(line) for line in lines)
    rule = "+" + "=" * (width + 4) + "+"
    return "\n".join(["", rule, *(f"|  {line.ljust(width)}  |" for line in lines), rule, ""])


def announce_when_ready(
    checks: Mapping[str, Check],
    banner: str,
    timeout: float = 240.0,
    interval: float = 1.0,
) -> threading.Thread:
    """Print `banner` once every check passes (each is retried until it does); if some never do
    within `timeout`, say which."""

    def wait() -> None:
        pending = dict(checks)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            pending = {name: check for name, check in pending.items() if not check()}
            if pending:
                time.sleep(interval)
        if pending:
            names = ", ".join(pending)
            print(
                f"\nNot answering after {timeout:.0f}s: {names}; see the log above.\n", flush=True
            )
            return
        print(banner, flush=True)

    thread = threading.Thread(target=wait, name="announce-ready", daemon=True)
    thread.start()
    return thread
