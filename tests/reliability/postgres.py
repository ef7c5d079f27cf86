"""A PostgreSQL server of the drill's own, from the `pgserver` package's binaries, that a drill
may restart (docs/reliability.md, drill `postgres_restarted`).

The suite's database lives on a server the drill must never restart (the embedded one under
.taskflow/, or the machine's PostgreSQL given by DATABASE_URL), so this drill initialises a
fresh data directory, listens on a free port of 127.0.0.1 with trust authentication, and runs
the drill in a pytest process pointed at it. The server is stopped by the PID in its
`postmaster.pid` (checked against its data directory), and the directory removed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from taskflow_local.processes import cmdline, free_port

# pgserver runs PostgreSQL as this user when started as root (PostgreSQL refuses root).
PGSERVER_USER = "pgserver"
PGDATA_ENV = "TASKFLOW_DRILL_PGDATA"


def postgres_bin() -> Path:
    """pgserver's bin/ directory, found without importing pgserver (its import warns)."""
    spec = importlib.util.find_spec("pgserver")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def system_user() -> str | None:
    """The user to run PostgreSQL as: pgserver's own when root, else the current one."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset on servers
        from pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(PGSERVER_USER)
    # What pgserver does before running its binaries as that user.
    ensure_prefix_permissions(postgres_bin())
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(postgres_bin(), read | execute)
    ensure_folder_permissions(postgres_bin().parent / "lib", read)
    return PGSERVER_USER


class ScratchPostgres:
    """One PostgreSQL server on 127.0.0.1, its configuration (port included) in `pgdata`, so
    that `stop` and `start` need nothing else."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.user = system_user()

    @classmethod
    def from_env(cls) -> ScratchPostgres:
        """The server the outer test started (its data directory in TASKFLOW_DRILL_PGDATA)."""
        return cls(Path(os.environ[PGDATA_ENV]))

    def _run(self, binary: str, *args: str, timeout: float = 60) -> None:
        # pg_ctl leaves the postmaster running: in a session of its own, so that a Ctrl-C
        # meant for the test run reaches it only through `kill`.
        result = subprocess.run(
            [str(postgres_bin() / binary), "-D", str(self.pgdata), *args],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
            check=False,
        )
        if result.returncode != 0:
            log = self.pgdata / "log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{binary} {args}: {result.stdout}{result.stderr}\n{tail}")

    @property
    def port(self) -> int:
        for line in (self.pgdata / "postgresql.auto.conf").read_text().splitlines():
            if line.startswith("port = "):
                return int(line.split("=")[1])
        raise AssertionError("no port in postgresql.auto.conf")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres")
        settings = {
            "port": str(free_port()),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",  # TCP only: no socket path to clash or be too long
            "fsync": "off",  # a scratch server: speed over durability across a power cut
            "max_connections": "50",
        }
        with (self.pgdata / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self._run("pg_ctl", "-w", "-t", "60", "-l", str(self.pgdata / "log"), "start", timeout=90)

    def stop(self) -> None:
        """A fast shutdown (`pg_ctl stop -m fast`): sessions are ended, like a restart."""
        self._run("pg_ctl", "-w", "-t", "60", "-m", "fast", "stop", timeout=90)

    def pid(self) -> int | None:
        """The postmaster's PID if it runs on this data directory (not a reused PID)."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        return pid if str(self.pgdata) in cmdline(pid) else None

    def kill(self, timeout: float = 15) -> None:
        """Stop the server by its PID (SIGINT: fast shutdown; SIGKILL if it lingers)."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while cmdline(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if cmdline(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def scratch_postgres() -> Iterator[ScratchPostgres]:
    """A fresh server, running; stopped by PID and removed on exit. Its data directory is in
    the system's temporary directory, which the PostgreSQL user can reach (a pytest tmp_path
    is private to its owner)."""
    pgdata = Path(tempfile.mkdtemp(prefix="taskflow-drill-pg-"))
    try:
        server = ScratchPostgres(pgdata)
        if server.user is not None:
            shutil.chown(pgdata, server.user, server.user)
        server.init()
        server.start()
        try:
            yield server
        finally:
            server.kill()
    finally:
        shutil.rmtree(pgdata, ignore_errors=True)
