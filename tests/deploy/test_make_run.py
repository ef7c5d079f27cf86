"""`make run` from a fresh clone: the whole stack becomes healthy behind nginx, `make demo`
shows a notification arriving through it, and Ctrl-C (SIGINT
to the foreground process group, as a terminal sends it) leaves no process behind, checked PID by
PID, the embedded PostgreSQL and Redis included.

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


def wait_healthy(url: str, make: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        assert make.poll() is None, f"make run exited early:\n{log.read_text()[-4000:]}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy within {STARTUP}s:\n{log.read_text()[-4000:]}")


def test_make_run_gets_healthy_and_ctrl_c_leaves_no_process_behind(clone: Path) -> None:
    assert nginx_binary() is not None, "nginx is required (.ci/run installs it)"
    ports = {name: free_port() for name in ("API", "REALTIME", "GATEWAY")}
    env = {key: value for key, value in os.environ.items() if key not in INHERITED_CONFIG}
    env.update({f"TASKFLOW_{name}_PORT": str(port) for name, port in ports.items()})
    log = clone.parent / "make-run.log"
    with log.open("wb") as output:
        make = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own foreground group, like a terminal's
        )
    seen: set[Proc] = set()
    try:
        gateway = f"http://127.0.0.1:{ports['GATEWAY']}"
        wait_healthy(f"{gateway}/api/v1/health/", make, log)
        wait_healthy(f"http://127.0.0.1:{ports['REALTIME']}/health", make, log)
        wait_healthy(f"{gateway}/realtime/health", make, log)
        assert httpx.get(f"{gateway}/api/docs/").status_code == 200
        assert httpx.get(f"{gateway}/static/admin/css/base.css").status_code == 200

        # A newcomer's next command: the demo finds the gateway and sees the notification.
        demo = subprocess.run(
            ["make", "demo"], cwd=clone, env=env, capture_output=True, text=True, timeout=120
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert f"connected to ws://127.0.0.1:{ports['GATEWAY']}/ws" in demo.stdout
        assert "notification.created" in demo.stdout
        assert "Latency from sending the PATCH to the socket:" in demo.stdout

        # Celery and the relay print their readiness late; collect until everything is seen.
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            seen |= stack_processes(make.pid, clone)
            commands = " ".join(cmdline(pid) for pid, _ in seen)
            if all(word in commands for word in EXPECTED) and "redis-server" in commands:
                break
            time.sleep(0.5)
        commands = " ".join(cmdline(pid) for pid, _ in seen)
        for word in (*EXPECTED, "redis-server"):
            assert word in commands, f"no {word} process in the stack:\n{log.read_text()[-4000:]}"
        printed = log.read_text()
        assert f"Gateway (nginx)  {gateway}/" in printed
        assert "make superuser" in printed

        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=90)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(proc) for proc in seen):
            time.sleep(0.2)
        left = sorted((pid, cmdline(pid)) for pid, start in seen if alive((pid, start)))
        assert left == [], f"processes left behind: {left}"
        assert len(seen) >= 10
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        for pid, start in seen:
            if alive((pid, start)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
