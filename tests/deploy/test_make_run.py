"""`make run` from a fresh clone: the whole stack becomes healthy behind nginx and says so in a
box only once every process answers (the Celery worker included); `make demo` finds it with no
variable given and shows a notification arriving; and each way of stopping it leaves no process
behind, checked PID by PID, the embedded PostgreSQL and Redis included, with no error from make:
Ctrl-C (SIGINT to the foreground process group, as a terminal sends it), a hangup (SIGHUP to that
group, as when the terminal closes) and `make stop` from another terminal. The second run starts
at once after the first, with the first's ports still in TIME_WAIT.

The clone reuses this checkout's synced virtualenv and uv (symlinks, with the clone's lock files
dated back so make's install step is already satisfied); everything else is the real entry point.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from taskflow_deploy.gateway import nginx_binary
from taskflow_local.processes import cmdline, process_table, stat_fields
from tests.support.processes import REPO, free_port

pytestmark = pytest.mark.integration

# The clone must find none of this session's configuration: it provides its own.
INHERITED_CONFIG = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "JWT_PRIVATE_KEY",
    "JWT_PRIVATE_KEY_FILE",
    "JWT_PUBLIC_KEY",
    "JWT_PUBLIC_KEY_FILE",
    "TASKFLOW_ENV_READY",
    "TASKFLOW_HOME",
    "TASKFLOW_STATIC_ROOT",
    "DJANGO_SETTINGS_MODULE",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)
STARTUP = 240.0
EXPECTED = ("gunicorn", "uvicorn", "celery", "worker", "beat", "relay_outbox", "nginx", "postgres")

Proc = tuple[int, str]  # (pid, start time): a PID reused by another process is not ours


def stack_processes(root_pid: int, clone: Path) -> set[Proc]:
    """The make process's descendants, plus anything running from the clone (pg_ctl's
    postmaster is re-parented to init) and its descendants."""
    table = process_table()
    roots = {root_pid} | {pid for pid in table if str(clone) in cmdline(pid)}
    found: set[int] = set()
    frontier = [pid for pid in roots if pid in table]
    while frontier:
        pid = frontier.pop()
        if pid in found:
            continue
        found.add(pid)
        frontier.extend(child for child, (parent, _) in table.items() if parent == pid)
    return {(pid, table[pid][1]) for pid in found}


def alive(proc: Proc) -> bool:
    fields = stat_fields(proc[0])
    return fields is not None and fields[19] == proc[1] and fields[0] != "Z"


@pytest.fixture
def clone() -> Iterator[Path]:
    # A short path: the embedded PostgreSQL puts its unix socket in here (108-byte limit).
    directory = Path(tempfile.mkdtemp(prefix="tf-run-"))
    target = directory / "taskflow"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)
    (target / ".venv").symlink_to(REPO / ".venv")
    (target / ".taskflow").mkdir()
    (target / ".taskflow" / "tools").symlink_to(REPO / ".taskflow" / "tools")
    for name in ("pyproject.toml", "uv.lock"):
        os.utime(target / name, (0, 0))
    yield target
    shutil.rmtree(directory, ignore_errors=True)


READY = "TaskFlow Pro is ready: every process answers."


def wait_ready(make: subprocess.Popen[bytes], log: Path) -> str:
    """The output once the ready banner is in it."""
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        printed = log.read_text()
        if READY in printed:
            return printed
        assert make.poll() is None, f"make run exited early:\n{printed[-4000:]}"
        time.sleep(0.5)
    raise AssertionError(f"no ready banner within {STARTUP}s:\n{log.read_text()[-4000:]}")


def time_wait_ports() -> set[int]:
    """Local ports of 127.0.0.1 with a connection in TIME_WAIT (/proc/net/tcp state 06)."""
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "06" and local.startswith("0100007F:"):
            ports.add(int(local.split(":")[1], 16))
    return ports


class Run:
    """One `make run` in the clone, its output in a log, its processes collected by PID."""

    def __init__(self, clone: Path, env: dict[str, str], name: str) -> None:
        self.log = clone.parent / f"{name}.log"
        with self.log.open("wb") as output:
            self.make = subprocess.Popen(
                ["make", "run"],
                cwd=clone,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own foreground group, like a terminal's
            )
        self.clone = clone
        self.seen: set[Proc] = set()

    def wait_ready(self) -> str:
        printed = wait_ready(self.make, self.log)
        # Everything has started by then; collect until every kind of process is seen.
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            self.seen |= stack_processes(self.make.pid, self.clone)
            commands = " ".join(cmdline(pid) for pid, _ in self.seen)
            if all(word in commands for word in (*EXPECTED, "redis-server")):
                break
            time.sleep(0.5)
        commands = " ".join(cmdline(pid) for pid, _ in self.seen)
        for word in (*EXPECTED, "redis-server"):
            assert word in commands, f"no {word} process in the stack:\n{printed[-4000:]}"
        assert len(self.seen) >= 10
        return printed

    def assert_stopped_cleanly(self) -> str:
        """make has ended, nothing of the stack is left, and nobody reported an error."""
        self.make.wait(timeout=90)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(proc) for proc in self.seen):
            time.sleep(0.2)
        left = sorted((pid, cmdline(pid)) for pid, start in self.seen if alive((pid, start)))
        assert left == [], f"processes left behind: {left}"
        printed = self.log.read_text()
        assert "TaskFlow Pro stopped." in printed
        assert "make: ***" not in printed, printed[-2000:]  # e.g. "[Makefile:27: run] Error 130"
        assert not (self.clone / ".taskflow" / "stack.json").exists()
        return printed

    def kill(self) -> None:
        if self.make.poll() is None:
            os.killpg(self.make.pid, signal.SIGKILL)
            self.make.wait()
        for pid, start in self.seen:
            if alive((pid, start)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_make_run_starts_stops_every_way_and_restarts_at_once(clone: Path) -> None:
    assert nginx_binary() is not None, "nginx is required (.ci/run installs it)"
    ports = {name: free_port() for name in ("API", "REALTIME", "GATEWAY")}
    plain_env = {key: value for key, value in os.environ.items() if key not in INHERITED_CONFIG}
    env = {**plain_env, **{f"TASKFLOW_{name}_PORT": str(port) for name, port in ports.items()}}
    gateway = f"http://127.0.0.1:{ports['GATEWAY']}"
    runs: list[Run] = []
    try:
        # 1. Fresh clone: ready, the demo, then Ctrl-C.
        first = Run(clone, env, "run-1")
        runs.append(first)
        printed = first.wait_ready()
        # The box comes after the worker said it is ready (the readiness check pings it).
        worker_ready = [line for line in printed.splitlines() if "@" in line and " ready." in line]
        assert worker_ready, printed[-4000:]
        assert printed.index(worker_ready[0]) < printed.index(READY)
        assert f"API docs   {gateway}/api/docs/" in printed
        assert f"Gateway (nginx)  {gateway}/" in printed
        assert "make superuser" in printed
        assert httpx.get(f"{gateway}/api/docs/").status_code == 200
        assert httpx.get(f"{gateway}/static/admin/css/base.css").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{ports['REALTIME']}/health").status_code == 200

        # A second terminal without the port variables: the demo finds the running stack.
        demo = subprocess.run(
            ["make", "demo"], cwd=clone, env=plain_env, capture_output=True, text=True, timeout=120
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert f"connected to ws://127.0.0.1:{ports['GATEWAY']}/ws" in demo.stdout
        assert "notification.created" in demo.stdout
        assert "Latency from sending the PATCH to the socket:" in demo.stdout

        # Connections the servers close when they stop: their ends stay in TIME_WAIT.
        with httpx.Client() as keepalive:
            for port in ports.values():
                path = "/health" if port == ports["REALTIME"] else "/api/v1/health/"
                assert keepalive.get(f"http://127.0.0.1:{port}{path}").status_code == 200
            os.killpg(first.make.pid, signal.SIGINT)
            first.assert_stopped_cleanly()
        stopped_at = time.monotonic()
        assert time_wait_ports() & set(ports.values()), "no port in TIME_WAIT: nothing tested"

        # 2. At once on the same ports; then the terminal "closes" (SIGHUP to its group).
        second = Run(clone, env, "run-2")
        runs.append(second)
        assert time.monotonic() - stopped_at < 5
        printed = second.wait_ready()
        assert "already in use" not in printed
        os.killpg(second.make.pid, signal.SIGHUP)
        second.assert_stopped_cleanly()

        # 3. Stopped by `make stop` from another terminal, which is given no variable either.
        third = Run(clone, env, "run-3")
        runs.append(third)
        third.wait_ready()
        stop = subprocess.run(
            ["make", "stop"], cwd=clone, env=plain_env, capture_output=True, text=True, timeout=120
        )
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert "Stopped." in stop.stdout
        third.assert_stopped_cleanly()
        assert third.make.returncode == 0
    finally:
        for run in runs:
            run.kill()
