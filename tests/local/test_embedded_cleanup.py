"""A run killed with SIGKILL cannot stop the embedded PostgreSQL and Redis it started; the next
run must. pgserver stops PostgreSQL only when the last PID in its handle list lets go, so a dead
PID left there kept every later run from stopping it; Redis runs in a session of its own."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from taskflow_local.processes import ChildProcess, cmdline
from taskflow_local.stackfile import process_start

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# What `make` provides, which the runner must find unset to start its own databases.
UNSET = ("DATABASE_URL", "REDIS_URL", "TASKFLOW_ENV_READY", "TASKFLOW_HOME")


@pytest.fixture
def home() -> Iterator[Path]:
    # A short path: the embedded PostgreSQL puts its unix socket in here (108-byte limit).
    directory = Path(tempfile.mkdtemp(prefix="tf-home-"))
    yield directory
    # Whatever a failed test left running, by PID.
    leftovers = [postmaster_pid(directory)]
    for owner_file in (directory / "redis").glob("redis-*.owner.json"):
        redis, started = json.loads(owner_file.read_text())["redis"]
        leftovers.append(redis if process_start(redis) == started else None)
    for pid in leftovers:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)


def runner(home: Path, *command: str) -> ChildProcess:
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env |= {"TASKFLOW_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
    args = [sys.executable, "-m", "taskflow_local", "exec", "--", *command]
    return ChildProcess(args, env=env, cwd=REPO)


def postmaster_pid(home: Path) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        return int((home / "postgres" / "postmaster.pid").read_text().split()[0])
    return None


def wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_the_run_after_a_killed_one_stops_the_databases_it_left(home: Path) -> None:
    killed = runner(home, "sleep", "600").start()
    try:
        # Up: PostgreSQL has the runner's handle, Redis its owner record.
        handles = home / "postgres" / ".handle_pids.json"
        wait_until(lambda: handles.exists() and killed.pid in json.loads(handles.read_text()))
        wait_until(lambda: any((home / "redis").glob("redis-*.owner.json")))
        postgres = postmaster_pid(home)
        assert postgres is not None
        postgres_started = process_start(postgres)
        owner_file = next((home / "redis").glob("redis-*.owner.json"))
        redis, redis_started = json.loads(owner_file.read_text())["redis"]
        assert "redis-server" in cmdline(redis)
    finally:
        # kill -9 the runner and its command: nothing of theirs gets to clean up.
        assert killed.process is not None
        os.killpg(killed.pid, signal.SIGKILL)
        killed.process.wait()
    assert process_start(postgres) == postgres_started, "PostgreSQL should have survived the kill"
    assert process_start(redis) == redis_started, "Redis should have survived the kill"

    # The next run (here a command that ends at once) stops both when it is done.
    with runner(home, "true") as after:
        assert after.process is not None
        assert after.process.wait(180) == 0, after.output()
    wait_until(lambda: process_start(postgres) != postgres_started, timeout=30)
    wait_until(lambda: process_start(redis) != redis_started, timeout=30)
    assert json.loads(handles.read_text()) == []
    assert list((home / "redis").glob("redis-*.owner.json")) == []
