"""Real processes for integration tests: started with a given environment, waited for on a TCP
port, and stopped by PID (never by name) when the test ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from urllib.parse import quote

from django.db import connection

from taskflow_local.embedded import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
__all__ = ["REPO", "ServerProcess", "free_port", "python_module", "service_env", "wait_for_port"]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes that must share it."""
    params = connection.settings_dict
    host = params.get("HOST") or ""
    port = f":{params['PORT']}" if params.get("PORT") else ""
    password = f":{quote(params['PASSWORD'])}" if params.get("PASSWORD") else ""
    return f"postgresql://{params['USER']}{password}@{quote(host, safe='')}{port}/{params['NAME']}"


def service_env(**extra: str) -> dict[str, str]:
    """The environment of this test run (URLs, keys), pointing at the test database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = test_database_url()
    env["PYTHONPATH"] = str(REPO / "src")
    env["DJANGO_SETTINGS_MODULE"] = "taskflow_core.config.settings.test"
    env.update(extra)
    return env


class ServerProcess:
    """A child process whose output goes to a temporary log, shown when a test fails."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        cwd: Path = REPO,
        startup_timeout: float = 30.0,
    ) -> None:
        self.args = list(args)
        self.env = env if env is not None else service_env()
        self.port = port
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> ServerProcess:
        self._log = tempfile.NamedTemporaryFile(
            prefix="taskflow-test-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.port is not None:
            try:
                wait_for_port(self.port, self.startup_timeout, self.process)
            except Exception:
                self.stop()
                raise RuntimeError(f"{self.args[:3]} did not start:\n{self.output()}") from None
        return self

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group this child leads, then SIGKILL what is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log is not None:
            self._log.close()
            os.unlink(self._log.name)
            self._log = None
        self.process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
