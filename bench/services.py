"""The stack's processes as the benchmark starts them: the very commands `make run` uses
(`taskflow_local.stack.processes`), on free ports, against the bench database."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.processes import REPO, Service, python
from taskflow_local.embedded import free_port
from taskflow_local.stack import REALTIME_WITHHELD, Ports, processes

ROOT = REPO / ".taskflow" / "bench"


def _commands(api_port: int = 0, realtime_port: int = 0) -> dict[str, list[str]]:
    ports = Ports(api=api_port, realtime=(realtime_port,), gateway=0)
    return processes(ports, ROOT, None)


def _realtime_env(env: dict[str, str]) -> dict[str, str]:
    """What `make run` gives the realtime process: no private key, no database, no secret."""
    return {key: value for key, value in env.items() if key not in REALTIME_WITHHELD}


def core_api(env: dict[str, str], name: str = "core", settings: str | None = None) -> Service:
    """gunicorn with the core (or, given `settings`, another Django settings module)."""
    port = free_port()
    service_env = dict(env)
    if settings is not None:
        service_env["DJANGO_SETTINGS_MODULE"] = settings
    service = Service(name, _commands(api_port=port)["core"], service_env, port=port).start()
    wait_http(port)
    return service


def realtime(env: dict[str, str], extra_args: tuple[str, ...] = ()) -> Service:
    port = free_port()
    command = [*_commands(realtime_port=port)["realtime"], *extra_args]
    return Service("realtime", command, _realtime_env(env), port=port).start()


def bare_socket_server(
    env: dict[str, str], relay_channel: str | None = None, extra_args: tuple[str, ...] = ()
) -> Service:
    """The baseline: bench.bare_ws on the same uvicorn flags as the realtime service."""
    port = free_port()
    command = [
        arg if arg != "taskflow_realtime.app:app" else "bench.bare_ws:app"
        for arg in _commands(realtime_port=port)["realtime"]
    ]
    service_env = _realtime_env(env)
    if relay_channel is not None:
        service_env["BARE_RELAY_CHANNEL"] = relay_channel
    name = "bare-relay" if relay_channel else "bare-sockets"
    return Service(name, [*command, *extra_args], service_env, port=port).start()


def relay(env: dict[str, str]) -> Service:
    return Service("relay", _commands()["relay"], env).start()


def celery_worker(env: dict[str, str], name: str = "worker") -> Service:
    return Service(name, _commands()["worker"], env).start()


def celery_purge(env: dict[str, str]) -> None:
    """Drop whatever the bench left queued (emails nobody will send)."""
    command = [*_commands()["worker"][:4], "purge", "-f"]
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
