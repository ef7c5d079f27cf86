"""The Docker engine `make docker-test` talks to: the machine's own when one answers, else a
private dockerd whose data, state and socket live under `.taskflow/docker/`, stopped by PID.

The private engine has no bridge, no iptables rules, no masquerading and leaves IP forwarding
alone: a container has either no network or the stack's one private namespace
(tests/docker/compose.py), so no packet with a private source address can leave the machine.
Builds use the host's network (`--network host`), like any process on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Debian's docker.io client: its built-in BuildKit needs no buildx plugin, and it speaks the
# 20.10 engine's API natively. Another `docker` earlier on PATH may lack either.
CLIENTS = ("/usr/bin/docker",)
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0
SHORT_PATH = 60


class EngineError(RuntimeError):
    pass


def docker_client() -> str:
    for candidate in CLIENTS:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("docker")
    if found is None:
        raise EngineError("docker is not installed: apt-get install docker.io (.ci/run does)")
    return found


@dataclass
class Engine:
    client: str
    host: str

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(DOCKER_HOST=self.host, DOCKER_BUILDKIT="1", **extra)
        return env

    def docker(
        self, *args: str, capture: bool = False, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.client, *args],
            env=self.env(),
            capture_output=capture,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            detail = (result.stderr or "").strip()[-2000:]
            raise EngineError(
                f"docker {' '.join(args[:3])} … failed ({result.returncode}) {detail}"
            )
        return result

    def answers(self) -> bool:
        try:
            result = self.docker(
                "version", "--format", "{{.Server.Version}}", capture=True, check=False, timeout=15
            )
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def _read_pid(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return None


def _stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class PrivateDaemon:
    """Where a private dockerd keeps everything: one directory under `.taskflow/`."""

    root: Path

    @property
    def run_dir(self) -> Path:
        """Sockets (dockerd's, containerd's under the exec root) have a 108-byte path limit: in a
        checkout with a long path they live in a directory of their own under /tmp instead."""
        if len(str(self.root)) <= SHORT_PATH:
            return self.root
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"taskflow-docker-{digest}"

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def containerd_pidfile(self) -> Path:
        return self.exec_root / "containerd" / "containerd.pid"

    def command(self) -> list[str]:
        return [
            "dockerd",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.exec_root}",
            f"--host=unix://{self.socket}",
            f"--pidfile={self.pidfile}",
            "--iptables=false",
            "--ip-masq=false",
            "--ip-forward=false",
            "--bridge=none",
        ]

    def stop_leftover(self) -> None:
        """A daemon a killed run left behind (its pid file names it, its command line says it is
        ours): stop it, so this run starts from a known state."""
        for pidfile, marker in (
            (self.pidfile, str(self.socket)),
            (self.containerd_pidfile, str(self.exec_root)),
        ):
            pid = _read_pid(pidfile)
            if pid is not None and _alive(pid) and marker in _cmdline(pid):
                print(f"Stopping a private engine process left by an earlier run (PID {pid}).")
                _stop_pid(pid)


def system_engine(client: str) -> Engine | None:
    for host in filter(None, (os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock")):
        engine = Engine(client=client, host=host)
        if (not host.startswith("unix://") or Path(host[7:]).exists()) and engine.answers():
            return engine
    return None


@contextlib.contextmanager
def docker_engine(state: Path) -> Iterator[Engine]:
    """The running engine, or a private one for the duration of the block."""
    client = docker_client()
    existing = system_engine(client)
    if existing is not None:
        print(f"Using the Docker engine at {existing.host}.")
        yield existing
        return
    if shutil.which("dockerd") is None:
        raise EngineError("dockerd is not installed: apt-get install docker.io (.ci/run does)")
    if os.geteuid() != 0:
        raise EngineError("no Docker engine answers, and starting a private dockerd needs root")
    daemon = PrivateDaemon(state)
    daemon.root.mkdir(parents=True, exist_ok=True)
    daemon.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    daemon.stop_leftover()
    with daemon.log.open("ab") as log:
        process = subprocess.Popen(
            daemon.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    engine = Engine(client=client, host=f"unix://{daemon.socket}")
    print(f"Started a private dockerd (PID {process.pid}), state in {daemon.root}.")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not engine.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = daemon.log.read_text(errors="replace")[-2000:]
                raise EngineError(f"the private dockerd did not start:\n{tail}")
            time.sleep(0.5)
        yield engine
    finally:
        containerd = _read_pid(daemon.containerd_pidfile)
        _stop_pid(process.pid)
        process.wait(timeout=10)
        leftovers = [pid for pid in (containerd,) if pid and _alive(pid)]
        if leftovers:
            raise EngineError(f"engine processes still running after stop: {leftovers}")
        print(f"Stopped the private dockerd (PID {process.pid}) and its containerd.")
