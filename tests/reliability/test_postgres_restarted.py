"""Drill `postgres_restarted` (docs/reliability.md): PostgreSQL itself stopped and started
again while the writes go on.

The suite's own database lives on a server this must never restart (the embedded one, or the
machine's PostgreSQL given by DATABASE_URL), so this test starts a scratch server
(tests/reliability/postgres.py) and runs the drill (`drill_postgres_restarted.py`) in a pytest
process whose DATABASE_URL points at it; the drill restarts that server. This test passes when
that run passed, and shows its output when it did not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from taskflow_local.processes import ChildProcess
from tests.reliability.postgres import PGDATA_ENV, scratch_postgres
from tests.support.processes import REPO

# Marked `drill` (about 25 s idle, 50 s loaded: a scratch server, its test database, 30 writes):
# `make drills` runs it, in CI too.
pytestmark = [pytest.mark.integration, pytest.mark.drill]

INNER = Path(__file__).with_name("drill_postgres_restarted.py")
# The inner run: the scratch server's test database (migrations), then the drill, whose own
# pytest-timeout (pyproject) ends it with its teardown; beyond this the run is interrupted.
INNER_TIMEOUT_SECONDS = 600


@pytest.mark.timeout(INNER_TIMEOUT_SECONDS + 120)
def test_postgres_restarted(tmp_path: Path) -> None:
    with scratch_postgres() as server:
        env = dict(os.environ, DATABASE_URL=server.url, **{PGDATA_ENV: str(server.pgdata)})
        args = [sys.executable, "-m", "pytest", str(INNER), "-p", "no:cacheprovider", "-v"]
        inner = ChildProcess(args, env=env, cwd=REPO, log_path=tmp_path / "inner.log")
        inner.start()
        try:
            assert inner.process is not None
            try:
                returncode = inner.process.wait(INNER_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                # Ctrl-C: pytest runs its teardown, which stops the drill's processes.
                os.kill(inner.pid, signal.SIGINT)
                returncode = inner.process.wait(60)
            output = inner.output()
        finally:
            inner.stop()
    assert returncode == 0, output[-20000:]
    assert "1 passed" in output, output[-5000:]
