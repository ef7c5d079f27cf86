"""`.taskflow/stack.json`: where a running `make run` answers and which processes it is.

`make demo` finds the stack through it (whatever ports it was given), `make stop` stops a stack
started in another terminal, and a second `make run` says which stack already holds the ports.
A record whose process is gone (or whose PID now belongs to another process) counts as absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from taskflow_local.processes import stat_fields


def process_start(pid: int) -> str | None:
    """The start time of a live process, None once it is gone or a zombie: with the PID it
    names one process, never a later one that reused the PID."""
    fields = stat_fields(pid)
    return None if fields is None or fields[0] == "Z" else fields[19]


def alive(pid: int, started: str) -> bool:
    return process_start(pid) == started


@dataclass(frozen=True)
class StackRecord:
    pid: int  # the stack (honcho's manager): SIGTERM stops every process of it
    started: str
    base_url: str  # the API's base: the gateway, or the core when nginx is missing
    ws_url: str
    ports: dict[str, int]
    # `python -m taskflow_local exec`, which stops the embedded databases after the stack.
    supervisor_pid: int | None = None
    supervisor_started: str | None = None

    @classmethod
    def for_this_process(cls, *, base_url: str, ws_url: str, ports: dict[str, int]) -> StackRecord:
        pid, parent = os.getpid(), os.getppid()
        parent_started = process_start(parent)
        supervised = os.environ.get("TASKFLOW_SUPERVISOR_PID") == str(parent)
        return cls(
            pid=pid,
            started=process_start(pid) or "",
            base_url=base_url,
            ws_url=ws_url,
            ports=ports,
            supervisor_pid=parent if supervised else None,
            supervisor_started=parent_started if supervised else None,
        )

    def running(self) -> bool:
        return alive(self.pid, self.started)

    def all_gone(self) -> bool:
        supervisor_running = self.supervisor_pid is not None and alive(
            self.supervisor_pid, self.supervisor_started or ""
        )
        return not self.running() and not supervisor_running


def path(root: Path) -> Path:
    return root / "stack.json"


def write(root: Path, record: StackRecord) -> None:
    root.mkdir(parents=True, exist_ok=True)
    temporary = path(root).with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(record), indent=2) + "\n")
    temporary.replace(path(root))


def read(root: Path) -> StackRecord | None:
    """The running stack's record; None when there is none (a stale file is removed)."""
    try:
        record = StackRecord(**json.loads(path(root).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None
    if not record.running():
        with contextlib.suppress(FileNotFoundError):
            path(root).unlink()
        return None
    return record


def remove(root: Path, pid: int) -> None:
    """Remove the record if it is this process's (a newer stack may have written its own)."""
    with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
        if json.loads(path(root).read_text())["pid"] == pid:
            path(root).unlink()


def stop(root: Path, timeout: float = 90.0) -> int:
    """`make stop`: SIGTERM the running stack, wait until it and its databases are stopped."""
    record = read(root)
    if record is None:
        print(f"No TaskFlow Pro stack is running from {root}.")
        return 0
    print(f"Stopping the TaskFlow Pro stack (pid {record.pid}) at {record.base_url} ...")
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not record.all_gone():
        if time.monotonic() > deadline:
            print(f"Still running after {timeout:.0f}s: see its terminal, or kill {record.pid}.")
            return 1
        time.sleep(0.2)
    print("Stopped.")
    return 0
