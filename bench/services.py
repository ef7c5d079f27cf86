"""The stack's processes as the benchmark starts them: the very commands `make run` uses
(`taskflow_deploy.commands`), on free ports, against the bench database."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from bench.processes import LOG_DIR, REPO, Service, python
from taskflow_deploy.commands import (
    celery_command,
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
    write,
)
from taskflow_local.processes import free_port


def core_api(env: dict[str, str], name: str = "core", settings: str | None = None) -> Service:
    """gunicorn with the core (or, given `settings`, another Django settings module)."""
    port = free_port()
    service_env = dict(env)
    if settings is not None:
        service_env["DJANGO_SETTINGS_MODULE"] = settings
    service = Service(name, core_command(f"127.0.0.1:{port}"), service_env, port=port).start()
    wait_http(port)
    return service


def realtime(env: dict[str, str], extra_args: tuple[str, ...] = ()) -> Service:
    port = free_port()
    command = [*realtime_command(port), *extra_args]
    return Service("realtime", command, realtime_environment(env), port=port).start()


def bare_socket_server(
    env: dict[str, str], relay_channel: str | None = None, extra_args: tuple[str, ...] = ()
) -> Service:
    """The baseline: bench.bare_ws on the same uvicorn flags as the realtime service."""
    port = free_port()
    command = [
        arg if arg != "taskflow_realtime.app:app" else "bench.bare_ws:app"
        for arg in realtime_command(port)
    ]
    service_env = realtime_environment(env)
    if relay_channel is not None:
        service_env["BARE_RELAY_CHANNEL"] = relay_channel
    name = "bare-relay" if relay_channel else "bare-sockets"
    return Service(name, [*command, *extra_args], service_env, port=port).start()


def relay(env: dict[str, str]) -> Service:
    return Service("relay", relay_command(), env).start()


def api_beside_plain_django(stack: ExitStack, env: dict[str, str]) -> tuple[Service, Service]:
    """The core with its relay, and the plain Django baseline (`bench/baseline_django`) on the
    same gunicorn command, each stopped when `stack` closes. Returns (core, plain)."""
    core = core_api(env)
    stack.callback(core.stop)
    plain = core_api(env, name="core-plain-django", settings="bench.baseline_django.settings")
    stack.callback(plain.stop)
    stack.callback(relay(env).stop)
    return core, plain


def push_path(stack: ExitStack, env: dict[str, str]) -> tuple[Service, Service]:
    """The path an event takes from a write to a socket: core, relay and realtime, each stopped
    when `stack` closes, with realtime answering its health check. Returns (core, realtime)."""
    core = core_api(env)
    stack.callback(core.stop)
    stack.callback(relay(env).stop)
    service = realtime(env)
    stack.callback(service.stop)
    wait_healthy(f"http://127.0.0.1:{service.port}/health")
    return core, service


def celery_worker(env: dict[str, str], name: str = "worker", timeout: float = 60.0) -> Service:
    """A Celery worker, once it is ready: its boot (three processes importing Django) takes
    seconds of both cores, which would otherwise land in the first measurement."""
    service = Service(name, worker_command(concurrency=2), env).start()
    assert service.log_path is not None
    deadline = time.monotonic() + timeout
    while " ready." not in service.log_path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Celery worker was not ready within {timeout}s")
        time.sleep(0.2)
    return service


def celery_purge(env: dict[str, str]) -> None:
    """Drop whatever the bench left queued (emails nobody will send)."""
    command = celery_command("purge", "-f")
    subprocess.run(command, env=env, cwd=REPO, capture_output=True, timeout=60, check=False)


def wait_http(port: int, timeout: float = 60.0) -> None:
    """Wait until gunicorn's workers answer (the master listens before they have booted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (404 here) means a worker is serving
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise TimeoutError(f"no HTTP answer on 127.0.0.1:{port} within {timeout}s")


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if int(response.status) == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            last = str(error)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not healthy within {timeout}s: {last}")


def smtp_sink(port: int, delay: float, count_file: Path, env: dict[str, str]) -> Service:
    args = python(
        "-m",
        "bench.smtp_sink",
        "--port",
        str(port),
        "--delay",
        str(delay),
        "--count-file",
        str(count_file),
    )
    return Service(f"smtp-{delay:g}s", args, env, port=port).start()


def gateway(core_port: int, realtime_ports: list[int]) -> Service:
    """nginx in front, rendered from the deployment's template with its default limits (the
    /ws limits per client address included), as a real deployment has it."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is required (apt-get install nginx)")
    port = free_port()
    config = Gateway(
        listen=f"127.0.0.1:{port}",
        core_servers=(f"127.0.0.1:{core_port}",),
        realtime_servers=tuple(f"127.0.0.1:{p}" for p in realtime_ports),
        prefix=LOG_DIR.parent / f"nginx-{port}",
        worker_user=current_worker_user(),
    )
    write(config)
    return Service("gateway", nginx_command(config, binary), {}, port=port).start()
