"""The web app in a real browser (Debian's chromium driven by playwright) against the real stack:
gunicorn core, one uvicorn realtime process the test can kill and restart on its port, the
outbox relay and nginx serving web/. Everything is stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from pytest_django import DjangoDbBlocker

from taskflow_deploy.commands import realtime_command
from tests.gateway.conftest import (  # noqa: F401 (fixtures used by this package's tests)
    RunningGateway,
    StartGateway,
    core,
    realtime_env,
    start_gateway,
    wait_until_ok,
)
from tests.support.processes import ServerProcess, free_port, service_env

CHROMIUM = os.environ.get("TASKFLOW_CHROMIUM", "/usr/bin/chromium")
# Generous for a loaded 2-core machine; the assertions on what users see stay strict.
UI_TIMEOUT_MS = 20_000
expect.set_options(timeout=UI_TIMEOUT_MS)


class Realtime:
    """One realtime process on a fixed port: `kill()` cuts every socket as a crash would,
    `start()` brings it back on the same port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.process: ServerProcess | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = ServerProcess(
            realtime_command(self.port), env=self.env, port=self.port, startup_timeout=60
        ).start()
        wait_until_ok(f"http://{self.address}/health")

    def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.stop()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@pytest.fixture(scope="module")
def realtime_process(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[Realtime]:
    realtime = Realtime(realtime_env(django_db_blocker))
    realtime.start()
    try:
        yield realtime
    finally:
        realtime.stop()


@pytest.fixture(scope="module")
def relay(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[ServerProcess]:
    with django_db_blocker.unblock():
        env = service_env()
    with ServerProcess([sys.executable, "manage.py", "relay_outbox"], env=env) as process:
        yield process


@pytest.fixture
def web_gateway(
    start_gateway: StartGateway,  # noqa: F811
    core: str,  # noqa: F811
    realtime_process: Realtime,
    relay: ServerProcess,
) -> RunningGateway:
    if realtime_process.process is None:  # a failed test left it killed
        realtime_process.start()
    # Each test signs two users in; the production login rate would slow the suite, not test it.
    return start_gateway([core], [realtime_process.address], auth_rate="600r/m", auth_burst=100)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"chromium is required at {CHROMIUM} (.ci/run installs it)"
    manager = sync_playwright().start()
    # playwright's sync API keeps an asyncio loop marked running in this thread, which Django
    # takes for async code and refuses the ORM (test set-up, the database flush). Nothing here
    # is async code, so the check is lifted while the browser runs, and only then.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            yield launch(manager)
        finally:
            manager.stop()


def launch(manager: Playwright) -> Browser:
    return manager.chromium.launch(executable_path=CHROMIUM)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    """`new_page(**context_options)` → a page in a fresh browser context (its own storage)."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
