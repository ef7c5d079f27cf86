"""`make run`: migrate, then run every process of the stack under honcho until Ctrl-C.

Runs inside `python -m taskflow_local exec`, which has already provided the secrets and (when no
URLs are configured) the embedded PostgreSQL and Redis; those stop after this process returns.
honcho starts each process in its own process group and, on SIGINT/SIGTERM or when any process
dies, terminates every group (SIGKILL after a grace period), so nothing outlives `make run`.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from honcho.manager import Manager

from taskflow_deploy.commands import (
    beat_command,
    core_command,
    realtime_command,
    realtime_environment,
    relay_command,
    worker_command,
)
from taskflow_deploy.gateway import (
    Gateway,
    current_worker_user,
    nginx_binary,
    nginx_command,
    split_list,
    write,
)


@dataclass(frozen=True)
class Ports:
    api: int
    realtime: tuple[int, ...]
    gateway: int

    @classmethod
    def from_environment(cls) -> Ports:
        realtime = int(os.environ.get("TASKFLOW_REALTIME_PORT", "8001"))
        count = int(os.environ.get("TASKFLOW_REALTIME_PROCESSES", "1"))
        return cls(
            api=int(os.environ.get("TASKFLOW_API_PORT", "8000")),
            # Extra realtime processes take the ports after the first one (8001, 8002, ...).
            realtime=tuple(realtime + index for index in range(count)),
            gateway=int(os.environ.get("TASKFLOW_GATEWAY_PORT", "8080")),
        )


def home() -> Path:
    return Path(os.environ.get("TASKFLOW_HOME", ".taskflow")).resolve()


def gateway_for(ports: Ports, root: Path) -> Gateway:
    return Gateway(
        listen=f"127.0.0.1:{ports.gateway}",
        core_servers=(f"127.0.0.1:{ports.api}",),
        realtime_servers=tuple(f"127.0.0.1:{port}" for port in ports.realtime),
        prefix=root / "nginx",
        static_root=Path(os.environ["TASKFLOW_STATIC_ROOT"]),
        client_max_body_size=os.environ.get("TASKFLOW_MAX_BODY_SIZE", "1m"),
        auth_rate=os.environ.get("TASKFLOW_AUTH_RATE", "30r/m"),
        worker_user=current_worker_user(),
        trusted_proxies=split_list(os.environ.get("TASKFLOW_TRUSTED_PROXIES", "")),
    )


def processes(ports: Ports, root: Path, nginx: str | None) -> dict[str, list[str]]:
    commands: dict[str, list[str]] = {
        "core": core_command(f"127.0.0.1:{ports.api}", workers=2, threads=8),
        "relay": relay_command(),
        "worker": worker_command(concurrency=2),
        "beat": beat_command(root / "celerybeat-schedule"),
    }
    for index, port in enumerate(ports.realtime, start=1):
        name = "realtime" if len(ports.realtime) == 1 else f"realtime{index}"
        commands[name] = realtime_command(port)
    if nginx is not None:
        commands["nginx"] = nginx_command(gateway_for(ports, root), nginx)
    return commands


def environment_for(name: str) -> dict[str, str]:
    env = dict(os.environ)
    return realtime_environment(env) if name.startswith("realtime") else env


def banner(ports: Ports, nginx: str | None) -> str:
    api = f"http://127.0.0.1:{ports.api}"
    realtime = f"ws://127.0.0.1:{ports.realtime[0]}/ws"
    if nginx is not None:
        base = f"http://127.0.0.1:{ports.gateway}"
        lines = [
            f"  Gateway (nginx)  {base}/",
            f"  API              {base}/api/v1/",
            f"  API docs         {base}/api/docs/",
            f"  Admin            {base}/admin/",
            f"  WebSocket        ws://127.0.0.1:{ports.gateway}/ws",
            f"  (behind it: core {api}, realtime {realtime})",
        ]
    else:
        lines = [
            "  nginx is not installed, so there is no gateway on"
            f" {ports.gateway}; the services answer directly:",
            f"  API              {api}/api/v1/",
            f"  API docs         {api}/api/docs/",
            f"  Admin            {api}/admin/",
            f"  WebSocket        {realtime}",
            "  (install nginx, e.g. `apt-get install nginx`, for the single-port gateway)",
        ]
    return "\n".join(
        [
            "",
            "TaskFlow Pro is starting:",
            *lines,
            "  Create an admin user: `make superuser` (in another terminal, while this runs)",
            "  Watch a notification arrive: `make demo`",
            "  Stop everything: Ctrl-C",
            "",
        ]
    )


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (fixed http URL)
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def announce_when_ready(urls: list[str], message: str, timeout: float = 180.0) -> None:
    """Say once that every health check answers, so the user knows when to start."""

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(healthy(url) for url in urls):
                print(message, flush=True)
                return
            time.sleep(1)
        print(f"Not healthy after {timeout:.0f}s: {' '.join(urls)}; see the log above.", flush=True)

    threading.Thread(target=wait, name="announce-ready", daemon=True).start()


def prepare(root: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskflow_core.config.settings.local")
    os.environ.setdefault("TASKFLOW_STATIC_ROOT", str(root / "static"))
    manage = [sys.executable, "manage.py"]
    print("Applying migrations and collecting static files...", flush=True)
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], check=True)  # noqa: S603
    subprocess.run([*manage, "collectstatic", "--no-input", "-v", "0"], check=True)  # noqa: S603


def ports_in_use(ports: Ports, with_gateway: bool) -> list[int]:
    """Ports another program already holds: better said now than as a crash mid-start."""
    wanted = [ports.api, *ports.realtime, *([ports.gateway] if with_gateway else [])]
    taken = []
    for port in wanted:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                taken.append(port)
    return taken


def main() -> int:
    root = home()
    ports = Ports.from_environment()
    nginx = nginx_binary()
    taken = ports_in_use(ports, nginx is not None)
    if taken:
        print(
            f"Port(s) {', '.join(map(str, taken))} already in use (another `make run`?). Stop it,"
            " or choose others: TASKFLOW_API_PORT, TASKFLOW_REALTIME_PORT, TASKFLOW_GATEWAY_PORT.",
            flush=True,
        )
        return 1
    try:
        prepare(root)
    except subprocess.CalledProcessError as error:
        print(f"`{shlex.join(error.cmd[1:])}` failed (see above); nothing started.", flush=True)
        return error.returncode or 1
    if nginx is not None:
        write(gateway_for(ports, root))
    manager = Manager()
    for name, command in processes(ports, root, nginx).items():
        manager.add_process(name, f"exec {shlex.join(command)}", env=environment_for(name))
    print(banner(ports, nginx), flush=True)
    entry = f"127.0.0.1:{ports.gateway}" if nginx else f"127.0.0.1:{ports.api}"
    realtime_health = (
        f"http://{entry}/realtime/health"
        if nginx
        else f"http://127.0.0.1:{ports.realtime[0]}/health"
    )
    announce_when_ready(
        [f"http://{entry}/api/v1/health/", realtime_health],
        f"TaskFlow Pro is ready: http://{entry}/api/docs/",
    )
    manager.loop()
    return int(manager.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
