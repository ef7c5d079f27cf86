"""A real nginx rendered from the project template, in front of real gunicorn/uvicorn processes
that share the pytest database; everything is stopped by PID when the tests end."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pytest_django import DjangoDbBlocker

from taskflow_deploy.commands import core_command, realtime_command, realtime_environment
from taskflow_deploy.gateway import (
    Gateway,
    current_worker_user,
    nginx_binary,
    nginx_command,
    write,
)
from tests.support.processes import ServerProcess, free_port, service_env

# Generous: a loaded 2-core machine can stall a request for seconds; assertions stay strict.
HTTP_TIMEOUT = 30.0


@dataclass
class RunningGateway:
    gateway: Gateway
    process: ServerProcess

    @property
    def port(self) -> int:
        return int(self.gateway.listen.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT, **options)  # type: ignore[arg-type]

    def access_log(self) -> str:
        return self.gateway.access_log.read_text()

    def access_log_with(self, text: str, timeout: float = 10.0) -> str:
        """The access log once it holds `text`: nginx writes a line after the response has gone
        out (for a socket, when it closes), so a test waits for it rather than racing it."""
        deadline = time.monotonic() + timeout
        log = self.access_log()
        while text not in log and time.monotonic() < deadline:
            time.sleep(0.05)
            log = self.access_log()
        return log


StartGateway = Callable[..., RunningGateway]


def required_nginx() -> str:
    binary = nginx_binary()
    assert binary is not None, "nginx is required (.ci/run installs it; apt-get install nginx)"
    return binary


@contextlib.contextmanager
def core_server(django_db_blocker: DjangoDbBlocker, **extra_env: str) -> Iterator[str]:
    """One gunicorn core (2 workers) on the test database, with `extra_env` added to its
    environment (e.g. `TASKFLOW_THROTTLE_LOGIN`); yields its host:port."""
    with django_db_blocker.unblock():
        env = service_env(**extra_env)
    port = free_port()
    args = core_command(f"127.0.0.1:{port}")
    with ServerProcess(args, env=env, port=port, startup_timeout=60):
        # Django loads lazily: the first requests on a loaded machine can take seconds.
        wait_until_ok(f"http://127.0.0.1:{port}/api/v1/health/")
        yield f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def core(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    with core_server(django_db_blocker) as address:
        yield address


def realtime_env(django_db_blocker: DjangoDbBlocker) -> dict[str, str]:
    with django_db_blocker.unblock():
        return realtime_environment(service_env())


@pytest.fixture(scope="module")
def realtime(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[list[str]]:
    """Two uvicorn realtime processes; yields their host:port."""
    env = realtime_env(django_db_blocker)
    servers: list[ServerProcess] = []
    try:
        for _ in range(2):
            port = free_port()
            args = realtime_command(port)
            servers.append(ServerProcess(args, env=env, port=port, startup_timeout=60).start())
            wait_until_ok(f"http://127.0.0.1:{port}/health")
        yield [f"127.0.0.1:{server.port}" for server in servers]
    finally:
        for server in servers:
            server.stop()


def wait_until_ok(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=HTTP_TIMEOUT).status_code == 200:
                return
        assert time.monotonic() < deadline, f"{url} did not answer 200 within {timeout}s"
        time.sleep(0.2)


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[StartGateway]:
    """`start_gateway(core_servers, realtime_servers, **options)` → a running nginx."""
    binary = required_nginx()
    started: list[ServerProcess] = []

    def start(
        core_servers: Sequence[str], realtime_servers: Sequence[str], **options: object
    ) -> RunningGateway:
        port = free_port()
        gateway = Gateway(
            listen=f"127.0.0.1:{port}",
            core_servers=tuple(core_servers),
            realtime_servers=tuple(realtime_servers),
            prefix=tmp_path / f"nginx-{port}",
            worker_user=current_worker_user(),
            **options,  # type: ignore[arg-type]
        )
        write(gateway)
        process = ServerProcess(nginx_command(gateway, binary), port=port).start()
        started.append(process)
        return RunningGateway(gateway, process)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def unused_realtime() -> list[str]:
    """Addresses nothing listens on, for tests that never open a socket."""
    return [f"127.0.0.1:{free_port()}"]
