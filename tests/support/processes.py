"""Real processes for integration tests: the shared helper (taskflow_local.processes) given the
test run's environment and database."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from taskflow_local.processes import ChildProcess, free_port, wait_for_port

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


class ServerProcess(ChildProcess):
    """A child of the test run (by default with its environment, from the repository root);
    its output goes to a temporary log, shown when it fails to start."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        cwd: Path = REPO,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(
            args,
            env=env if env is not None else service_env(),
            cwd=cwd,
            port=port,
            startup_timeout=startup_timeout,
        )


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
