"""How the local runner's process manager stops (taskflow_local.supervision): Ctrl-C, SIGTERM
and a hangup each stop every process and end with status 0; a process dying by itself still
ends the stack with its status."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from taskflow_local.processes import ChildProcess
from taskflow_local.stackfile import process_start

REPO = Path(__file__).resolve().parents[2]

# The runner's manager with one long-lived service, the way taskflow_local.stack uses it.
MANAGER = """
import sys
from pathlib import Path
from taskflow_local.supervision import StackManager

manager = StackManager(hangup_log=Path(sys.argv[1]))
manager.add_process("service", sys.argv[2])
manager.loop()
print(f"exit status {manager.exit_status}", flush=True)
sys.exit(manager.exit_status)
"""


def start_manager(tmp_path: Path, command: str) -> ChildProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    args = [sys.executable, "-c", MANAGER, str(tmp_path / "hangup.log"), command]
    return ChildProcess(args, env=env, cwd=REPO).start()


def wait_gone(pid: int, started: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_start(pid) != started:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_to_the_group_stops_the_services_and_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    manager = start_manager(tmp_path, "exec sleep 300")
    try:
        manager.wait_for_output("service started (pid=", timeout=60)
        service = int(manager.output().split("service started (pid=", 1)[1].split(")")[0])
        started = process_start(service)
        assert started is not None
        # As a terminal does: to the whole foreground process group (honcho's helpers too).
        os.killpg(manager.pid, signum)
        assert manager.process is not None
        assert manager.process.wait(60) == 0, manager.output()
        assert wait_gone(service, started), f"the service outlived {signum.name}"
        assert f"{signum.name} received: stopping every process" in manager.output()
    finally:
        manager.stop()


def test_a_service_that_dies_ends_the_stack_with_its_status(tmp_path: Path) -> None:
    manager = start_manager(tmp_path, "exit 3")
    try:
        assert manager.process is not None
        assert manager.process.wait(60) == 3, manager.output()
    finally:
        manager.stop()
