"""The process helper tests and benchmarks share (taskflow_local.processes): output, waiting for
a port or a line, /proc measurements, and stopping the whole process group by PID."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from taskflow_local.processes import ChildProcess, cpu_percent, free_port

REPO = Path(__file__).resolve().parents[2]

# Prints, listens on a port, starts a grandchild in its group, then burns CPU until stopped.
CHILD = """
import os, socket, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"grandchild {grandchild.pid}", flush=True)
server = socket.socket()
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen()
print("listening", flush=True)
while True:
    sum(range(10_000))
"""


def test_a_child_is_waited_for_measured_and_stopped_with_its_group() -> None:
    port = free_port()
    child = ChildProcess(
        [sys.executable, "-c", CHILD, str(port)], env=dict(os.environ), cwd=REPO, port=port
    )
    with child:
        child.wait_for_output("listening", timeout=30)
        grandchild = int(child.output().split("grandchild ", 1)[1].split()[0])
        assert child.rss_bytes() > 1_000_000  # a Python interpreter, in bytes
        before = child.cpu()
        time.sleep(0.5)
        assert cpu_percent(before, child.cpu()) > 5  # it spins: /proc sees its CPU time
        log = child.log_path
        assert log is not None
        assert log.exists()
    assert not child.alive()
    deadline = time.monotonic() + 10
    # Killed with the group; a dead process may linger as a zombie until its new parent reaps it.
    while _state(grandchild) not in ("gone", "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(grandchild) in ("gone", "Z")
    assert not log.exists()  # a temporary log goes with the process


def test_a_child_that_exits_before_listening_is_reported_with_its_output() -> None:
    port = free_port()
    child = ChildProcess(
        [sys.executable, "-c", "print('config is wrong'); raise SystemExit(3)"],
        env=dict(os.environ),
        cwd=REPO,
        port=port,
    )
    with pytest.raises(RuntimeError, match=r"(?s)exited with 3.*config is wrong"):
        child.start()
    assert not child.alive()


def test_a_kept_log_stays_after_stop(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "echo.log"
    child = ChildProcess(
        [sys.executable, "-c", "print('done', flush=True)"],
        env=dict(os.environ),
        cwd=REPO,
        log_path=log,
    ).start()
    # The whole line: with PYTHONUNBUFFERED set, print() writes "done" and "\n" separately.
    child.wait_for_output("done\n", timeout=30)
    child.stop()
    assert log.read_text() == "done\n"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"
