"""Processes the benchmark starts: each in its own session, stopped by PID (its process group),
with its output in a log under `.taskflow/bench/logs/`, and measured through `/proc`."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from taskflow_local.embedded import wait_for_port

REPO = Path(__file__).resolve().parents[1]
LOG_DIR = REPO / ".taskflow" / "bench" / "logs"
PROFILE_DIR = REPO / ".taskflow" / "bench" / "profiles"
PY_SPY = Path(sys.executable).with_name("py-spy")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

_running: list[Service] = []


def raise_open_files_limit() -> int:
    """Lift the soft RLIMIT_NOFILE to the hard limit (children inherit it); return the new soft."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class CpuSample:
    at: float
    cpu_seconds: float


class Service:
    """One child process (and its process group)."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: dict[str, str],
        port: int | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.env = env
        self.port = port
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = LOG_DIR / f"{name}.log"
        self._log: IO[bytes] | None = None
        self.profiler: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def start(self) -> Service:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _running.append(self)
        if self.port is not None:
            try:
                wait_for_port(self.port, self.startup_timeout, self.process)
            except Exception as error:
                self.stop()
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} did not start ({error}):\n{tail}") from None
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
                str(PY_SPY),
                "record",
                "--subprocesses",
                "--gil",
                "--format",
                "raw",
                "--rate",
                "250",
                "--output",
                str(output),
                "--pid",
                str(self.pid),
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

    def wait_for_output(self, text: str, timeout: float) -> None:
        """Wait until the process has written `text` to its log (e.g. celery's "ready.")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            if not self.alive():
                break
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.name} did not say {text!r} within {timeout}s:\n{tail}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_bytes(self) -> int:
        """Resident memory of the main process (not its children)."""
        fields = Path(f"/proc/{self.pid}/statm").read_text().split()
        return int(fields[1]) * PAGE_SIZE

    def cpu(self) -> CpuSample:
        """User+system CPU seconds of the main process so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        return CpuSample(time.monotonic(), ticks / CLOCK_TICKS)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the group this child leads, SIGKILL whatever is left after `timeout`."""
        self._stop_profiler()
        if self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
            # Grandchildren (gunicorn or celery workers) share the group: make sure none linger.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self in _running:
            _running.remove(self)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_all() -> None:
    """Stop every service still running, newest first (called on exit and on signals)."""
    for service in reversed(list(_running)):
        service.stop(timeout=5.0)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def cpu_percent(before: CpuSample, after: CpuSample) -> float:
    """Share of one core used between two samples, in percent."""
    elapsed = after.at - before.at
    return 100.0 * (after.cpu_seconds - before.cpu_seconds) / elapsed if elapsed > 0 else 0.0
