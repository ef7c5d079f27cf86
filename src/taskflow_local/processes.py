"""Child processes for the tests and the benchmarks: started in a session of their own with
their output in a log, waited for on a TCP port of 127.0.0.1 or a line of output, measured
through `/proc`, and stopped by PID (their process group, never by name).

Standard library only; production code never uses it (taskflow_deploy holds what it runs).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Self

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`; fail early if `process`
    (the one meant to listen there) exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening on {port}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


@dataclass(frozen=True)
class CpuSample:
    at: float
    cpu_seconds: float


def stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from its third field on (state, parent pid, ...; `man 5 proc` numbers them
    from 1, so field N is item N - 3), or None once the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return raw[raw.rindex(")") + 2 :].split()


def cmdline(pid: int) -> str:
    """The command line of a process, its arguments joined by spaces; "" once it is gone."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) for every process now; the start time tells a process
    from a later one that reused its PID."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(int(entry))) is not None:
            table[int(entry)] = (int(fields[1]), fields[19])
    return table


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (not its children), from /proc/PID/statm."""
    fields = Path(f"/proc/{pid}/statm").read_text().split()
    return int(fields[1]) * PAGE_SIZE


def cpu_sample(pid: int) -> CpuSample:
    """User+system CPU seconds of one process so far, from /proc/PID/stat."""
    fields = stat_fields(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return CpuSample(time.monotonic(), ticks / CLOCK_TICKS)


def cpu_percent(before: CpuSample, after: CpuSample) -> float:
    """Share of one core used between two samples, in percent."""
    elapsed = after.at - before.at
    return 100.0 * (after.cpu_seconds - before.cpu_seconds) / elapsed if elapsed > 0 else 0.0


class ChildProcess:
    """One child process and the process group it leads.

    Its output goes to `log_path` (kept), or to a temporary file removed by `stop()`.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path,
        port: int | None = None,
        startup_timeout: float = 30.0,
        log_path: Path | None = None,
    ) -> None:
        self.args = list(args)
        self.env = env
        self.cwd = cwd
        self.port = port
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._temporary_log = log_path is None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.args[:3]} is not running"
        return self.process.pid

    def start(self) -> Self:
        if self.log_path is None:
            self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by stop())
                prefix="taskflow-", suffix=".log", delete=False
            )
            self.log_path = Path(self._log.name)
        else:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (argument lists built by the callers)
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
            except (RuntimeError, TimeoutError) as error:
                tail = self.output()[-3000:]
                self.stop()
                raise RuntimeError(f"{self.args[:3]} did not start ({error}):\n{tail}") from None
        return self

    def output(self) -> str:
        if self._log is None or self.log_path is None:
            return ""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float) -> None:
        """Wait until the process has written `text` (e.g. celery's "ready.")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            exited = not self.alive()  # read before the output: what it wrote is then all there
            if text in self.output():
                return
            if exited:
                break
            time.sleep(0.1)
        tail = self.output()[-2000:]
        raise RuntimeError(f"{self.args[:3]} did not say {text!r} within {timeout}s:\n{tail}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid)

    def cpu(self) -> CpuSample:
        return cpu_sample(self.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group this child leads, SIGKILL whatever is left after `timeout`."""
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
            if self._temporary_log and self.log_path is not None:
                self.log_path.unlink(missing_ok=True)
                self.log_path = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
