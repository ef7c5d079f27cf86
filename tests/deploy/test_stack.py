"""What `make run` starts, decided before anything runs: the process list with and without nginx,
what each process is given, and what the user is told."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from taskflow_local.stack import (
    Ports,
    banner,
    environment_for,
    gateway_for,
    ports_in_use,
    processes,
)
from tests.support.processes import free_port

PORTS = Ports(api=8000, realtime=(8001, 8002), gateway=8080)


def test_every_process_of_the_stack_runs_and_nginx_fronts_every_realtime_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFLOW_STATIC_ROOT", str(tmp_path / "static"))
    commands = processes(PORTS, tmp_path, "/usr/sbin/nginx")
    assert set(commands) == {"core", "realtime1", "realtime2", "relay", "worker", "beat", "nginx"}
    realtime2 = commands["realtime2"]
    assert realtime2[realtime2.index("--port") + 1] == "8002"
    assert "taskflow_realtime.app:app" in realtime2
    assert commands["nginx"][:2] == ["/usr/sbin/nginx", "-p"]
    assert "worker" in commands["worker"]
    assert "relay_outbox" in commands["relay"]
    assert commands["beat"][-2:] == ["-s", str(tmp_path / "celerybeat-schedule")]
    gateway = gateway_for(PORTS, tmp_path)
    assert gateway.realtime_servers == ("127.0.0.1:8001", "127.0.0.1:8002")
    assert gateway.core_servers == ("127.0.0.1:8000",)
    assert gateway.listen == "127.0.0.1:8080"


def test_without_nginx_the_services_run_and_the_user_is_told_where(tmp_path: Path) -> None:
    commands = processes(Ports(api=8000, realtime=(8001,), gateway=8080), tmp_path, None)
    assert set(commands) == {"core", "realtime", "relay", "worker", "beat"}
    text = banner(Ports(api=8000, realtime=(8001,), gateway=8080), None)
    assert "nginx is not installed, so there is no gateway on 8080" in text
    assert "http://127.0.0.1:8000/api/docs/" in text
    assert "ws://127.0.0.1:8001/ws" in text
    assert "make superuser" in text


def test_the_realtime_processes_never_get_the_signing_key_secret_or_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("JWT_PRIVATE_KEY_FILE", "JWT_PUBLIC_KEY_FILE", "DATABASE_URL", "SECRET_KEY"):
        monkeypatch.setenv(name, "set")
    realtime = environment_for("realtime2")
    assert "JWT_PRIVATE_KEY_FILE" not in realtime
    assert "DATABASE_URL" not in realtime
    assert "SECRET_KEY" not in realtime
    assert realtime["JWT_PUBLIC_KEY_FILE"] == "set"
    core = environment_for("core")
    assert core["JWT_PRIVATE_KEY_FILE"] == "set"
    assert core["DATABASE_URL"] == "set"


def test_ports_and_process_count_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TASKFLOW_API_PORT", "9000")
    monkeypatch.setenv("TASKFLOW_REALTIME_PORT", "9001")
    monkeypatch.setenv("TASKFLOW_REALTIME_PROCESSES", "3")
    monkeypatch.setenv("TASKFLOW_GATEWAY_PORT", "9080")
    assert Ports.from_environment() == Ports(api=9000, realtime=(9001, 9002, 9003), gateway=9080)


def test_ports_already_taken_are_reported_before_anything_starts() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        free = free_port()
        ports = Ports(api=free, realtime=(taken,), gateway=taken)
        assert ports_in_use(ports, with_gateway=False) == [taken]
        assert ports_in_use(ports, with_gateway=True) == [taken, taken]
