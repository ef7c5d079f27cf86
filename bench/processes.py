"""Processes the benchmark starts (taskflow_local.processes, as the tests start theirs), named,
logged under `.taskflow/bench/logs/`, optionally profiled, and all stopped on exit or signal."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from taskflow_local.processes import ChildProcess, CpuSample, cpu_percent

__all__ = ["LOG_DIR", "REPO", "CpuSample", "Service", "cpu_percent", "python", "stop_all"]

REPO = Path(__file__).resolve().parents[1]
LOG_DIR = REPO / ".taskflow" / "bench" / "logs"
PROFILE_DIR = REPO / ".taskflow" / "bench" / "profiles"
PY_SPY = Path(sys.executable).with_name("py-spy")

_running: list[Service] = []


def raise_open_files_limit() -> int:
    """Lift the soft RLIMIT_NOFILE to the hard limit (children inherit it); return the new soft."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Service(ChildProcess):
    """One named child process of the benchmark, its log kept under .taskflow/bench/logs/."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: dict[str, str],
        port: int | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(
            args,
            env=env,
            cwd=REPO,
            port=port,
            startup_timeout=startup_timeout,
            log_path=LOG_DIR / f"{name}.log",
        )
        self.name = name
        self.profiler: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        _running.append(self)
        super().start()
        if self.name in os.environ.get("BENCH_PROFILE", "").split(","):
            self._start_profiler()
        return self

    def _start_profiler(self) -> None:
        """py-spy samples this process and its children until the service stops
        (`BENCH_PROFILE=core,realtime`), counting only samples that hold the GIL (Python CPU
        time, not waits); collapsed stacks land in .taskflow/bench/profiles/."""
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        output = PROFILE_DIR / f"{self.name}-{int(time.time())}.txt"
        self.profiler = subprocess.Popen(
            [
                *(str(PY_SPY), "record", "--subprocesses", "--gil", "--format", "raw"),
                *("--rate", "250", "--output", str(output), "--pid", str(self.pid)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _stop_profiler(self) -> None:
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.profiler.wait(30)
            except subprocess.TimeoutExpired:
                self.profiler.kill()
                self.profiler.wait()
            self.profiler = None

    def stop(self, timeout: float = 15.0) -> None:
        self._stop_profiler()
        super().stop(timeout)
        if self in _running:
            _running.remove(self)


def stop_all() -> None:
    """Stop every service still running, newest first (called on exit and on signals)."""
    for service in reversed(list(_running)):
        service.stop(timeout=5.0)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]
