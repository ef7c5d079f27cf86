"""`make run`: migrate, then run every process of the stack under honcho until Ctrl-C.

Runs inside `python -m taskflow_local exec`, which has already provided the secrets and (when no
URLs are configured) the embedded PostgreSQL and Redis; those stop after this process returns.
honcho starts each process in its own process group and, on SIGINT/SIGTERM/SIGHUP or when any
process dies, terminates every group (SIGKILL after a grace period), so nothing outlives
`make run` (taskflow_local.supervision). `.taskflow/stack.json` says where the stack answers
while it runs (taskflow_local.stackfile), for `make demo` and `make stop`.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
from taskflow_local import readiness, stackfile
from taskflow_local.supervision import StackManager


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
        ws_connections_per_address=int(
            os.environ.get("TASKFLOW_WS_CONNECTIONS_PER_ADDRESS", "200")
        ),
        worker_user=current_worker_user(),
        trusted_proxies=split_list(os.environ.get("TASKFLOW_TRUSTED_PROXIES", "")),
    )


def processes(ports: Ports, root: Path, nginx: str | None) -> dict[str, list[str]]:
    commands: dict[str, list[str]] = {
        "core": core_command(f"127.0.0.1:{ports.api}", workers=2, threads=8),
        "relay": relay_command(),
        "worker": [*worker_command(concurrency=2), "-n", worker_node()],
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
            "  Stop everything: Ctrl-C here, or `make stop` in another terminal",
            "",
        ]
    )


def worker_node(pid: int | None = None) -> str:
    """The Celery worker's node name, so readiness pings this stack's worker and no other."""
    return f"taskflow-{pid or os.getpid()}@{socket.gethostname()}"


def endpoints(ports: Ports, nginx: str | None) -> tuple[str, str]:
    """The API base and the WebSocket URL a client uses: the gateway's, else the services'."""
    if nginx is not None:
        return f"http://127.0.0.1:{ports.gateway}", f"ws://127.0.0.1:{ports.gateway}/ws"
    return f"http://127.0.0.1:{ports.api}", f"ws://127.0.0.1:{ports.realtime[0]}/ws"


def readiness_checks(ports: Ports, nginx: str | None) -> dict[str, readiness.Check]:
    """Every process that answers requests, and the worker through the broker."""
    checks = {"core": readiness.http_ok(f"http://127.0.0.1:{ports.api}/api/v1/health/")}
    for port in ports.realtime:
        checks[f"realtime :{port}"] = readiness.http_ok(f"http://127.0.0.1:{port}/health")
    if nginx is not None:
        base = f"http://127.0.0.1:{ports.gateway}"
        checks["gateway"] = readiness.http_ok(f"{base}/api/v1/health/")
        checks["gateway /ws route"] = readiness.http_ok(f"{base}/realtime/health")
    broker = os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"]
    checks["celery worker"] = readiness.celery_worker_answers(broker, worker_node())
    return checks


def ready_banner(ports: Ports, nginx: str | None) -> str:
    base, ws_url = endpoints(ports, nginx)
    return readiness.boxed(
        [
            "TaskFlow Pro is ready: every process answers.",
            "",
            f"API docs   {base}/api/docs/",
            f"API        {base}/api/v1/",
            f"WebSocket  {ws_url}",
            "",
            "Next, in another terminal: `make demo`, `make superuser`.",
            "Stop: Ctrl-C here, or `make stop` in another terminal.",
        ]
    )


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
            # As the servers themselves bind: a port whose last connections linger in TIME_WAIT
            # (right after a Ctrl-C) is free for them, and must not be reported as taken.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
        running = stackfile.read(root)
        owner = (
            f"the stack at {running.base_url} (pid {running.pid}) holds them: `make stop` stops it"
            if running is not None
            else "another program holds them"
        )
        print(
            f"Port(s) {', '.join(map(str, taken))} already in use: {owner}. Or choose others:"
            " TASKFLOW_API_PORT, TASKFLOW_REALTIME_PORT, TASKFLOW_GATEWAY_PORT.",
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
    manager = StackManager(hangup_log=root / "logs" / "run-after-hangup.log")
    for name, command in processes(ports, root, nginx).items():
        manager.add_process(name, f"exec {shlex.join(command)}", env=environment_for(name))
    print(banner(ports, nginx), flush=True)
    base, ws_url = endpoints(ports, nginx)
    record = stackfile.StackRecord.for_this_process(
        base_url=base,
        ws_url=ws_url,
        ports={"api": ports.api, "realtime": ports.realtime[0], "gateway": ports.gateway},
    )
    stackfile.write(root, record)
    readiness.announce_when_ready(readiness_checks(ports, nginx), ready_banner(ports, nginx))
    try:
        manager.loop()
    finally:
        stackfile.remove(root, os.getpid())
    if manager.stop_signal is not None:
        print("TaskFlow Pro stopped.", flush=True)
    return manager.exit_status


if __name__ == "__main__":
    sys.exit(main())
