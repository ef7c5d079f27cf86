"""Real background machinery for integration tests: an SMTP server (aiosmtpd) in this process
and Celery worker/beat processes pointed at the test database, the test Redis and that server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.processes import ServerProcess, free_port, service_env

CELERY_APP = "taskflow_core.config.celery_app"


@dataclass(frozen=True)
class ReceivedEmail:
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str) -> str:
        part = self.message.get_body((subtype,))
        assert part is not None, f"no text/{subtype} part"
        return str(part.get_content())


class Mailbox:
    """An aiosmtpd handler that stores accepted mail and can refuse or hold DATA on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[ReceivedEmail] = []
        self.refused = 0
        self.refuse_next = 0
        self.refuse_all = False
        self.hold: threading.Event | None = None  # DATA waits until the test sets it
        self.holding = threading.Event()

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.refused = self.refuse_next = 0
            self.refuse_all = False
            self.hold = None
            self.holding.clear()

    def messages_to(self, address: str) -> list[ReceivedEmail]:
        with self._lock:
            return [mail for mail in self.received if address in mail.recipients]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        hold = self.hold
        if hold is not None:
            self.holding.set()
            await asyncio.to_thread(hold.wait, 30)
        with self._lock:
            if self.refuse_all or self.refuse_next > 0:
                self.refuse_next = max(self.refuse_next - 1, 0)
                self.refused += 1
                return "451 4.3.0 Mailbox temporarily unavailable, try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(ReceivedEmail(list(envelope.rcpt_tos), message))
        return "250 2.0.0 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def worker_env(smtp_port: int, **extra: str) -> dict[str, str]:
    """The stack's own settings (`local`, as `make run` uses), not the test settings whose
    in-memory mail backend would swallow the emails. Beat looks for due digests twice a
    second; notifications the worker creates (deadline alerts) wait no time for their email.
    Those made in the test process follow its settings (`short_email_delay`)."""
    settings = {
        "DJANGO_SETTINGS_MODULE": "taskflow_core.config.settings.local",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "TASKFLOW_EMAIL_MAX_ATTEMPTS": "3",
        "TASKFLOW_EMAIL_BACKOFF_SECONDS": "0.2",
        "TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS": "0.5",
        "TASKFLOW_EMAIL_DELAY_UNIT_SECONDS": "0",
        "EMAIL_TIMEOUT": "60",  # a test may hold the SMTP server's answer for a while
    }
    return service_env(**{**settings, **extra})


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll until `condition()` is truthy; generous deadlines keep a loaded machine green."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def wait_for_log(process: ServerProcess, text: str, count: int = 1, timeout: float = 60.0) -> None:
    try:
        wait_until(lambda: process.output().count(text) >= count, timeout, repr(text))
    except AssertionError:
        raise AssertionError(f"{text!r} x{count} not logged; output:\n{process.output()}") from None


@contextmanager
def celery_worker(env: dict[str, str]) -> Iterator[ServerProcess]:
    """A real worker (solo pool: one job at a time, in arrival order) on both queues; `--purge`
    drops jobs other test modules queued while no worker was running."""
    process = ServerProcess(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            CELERY_APP,
            "worker",
            "-l",
            "info",
            "--pool=solo",
            "--purge",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{uuid.uuid4().hex[:8]}@%h",
        ],
        env=env,
    ).start()
    try:
        wait_for_log(process, "ready.", timeout=90)
        yield process
    finally:
        process.stop()


@contextmanager
def celery_beat(env: dict[str, str], schedule: Path) -> Iterator[ServerProcess]:
    """Beat with its own schedule file; yields the process (its log names each job sent)."""
    process = ServerProcess(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            CELERY_APP,
            "beat",
            "-l",
            "info",
            "-s",
            str(schedule),
        ],
        env=env,
    ).start()
    try:
        yield process
    finally:
        process.stop()
