"""What `make run` starts, decided before anything runs: the process list with and without nginx,
what each process is given, and what the user is told."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from taskflow_local.readiness import celery_worker_answers
from taskflow_local.stack import (
    Ports,
    banner,
    environment_for,
    gateway_for,
    ports_in_use,
    processes,
    ready_banner,
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


def time_wait_on(port: int) -> bool:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "06":
            return True
    return False


def test_a_port_in_time_wait_is_free_but_a_listened_one_is_taken() -> None:
    """Right after a Ctrl-C the servers' closed connections linger in TIME_WAIT; the servers
    bind with SO_REUSEADDR and can listen again at once, so the probe must not refuse."""
    port = free_port()
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server closes first: its end goes to TIME_WAIT
        client.recv(1)
        client.close()
    assert time_wait_on(port)
    free = Ports(api=port, realtime=(free_port(),), gateway=free_port())
    assert ports_in_use(free, with_gateway=True) == []

    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert ports_in_use(free, with_gateway=True) == [port]


def test_the_ready_banner_is_a_box_with_where_to_go_and_how_to_stop() -> None:
    text = ready_banner(Ports(api=8000, realtime=(8001,), gateway=8080), "/usr/sbin/nginx")
    lines = text.strip().splitlines()
    assert lines[0] == lines[-1]
    assert set(lines[0]) == {"+", "="}
    assert all(line.startswith("|") and line.endswith("|") for line in lines[1:-1])
    assert len({len(line) for line in lines}) == 1
    body = "\n".join(lines)
    assert "TaskFlow Pro is ready: every process answers." in body
    assert "http://127.0.0.1:8080/api/docs/" in body
    assert "`make stop`" in body


def test_the_worker_check_fails_until_that_worker_answers() -> None:
    """No worker of that name on the broker: not ready (and the check returns within seconds)."""
    check = celery_worker_answers(os.environ["REDIS_URL"], "taskflow-0@nowhere")
    started = time.monotonic()
    assert check() is False
    assert time.monotonic() - started < 15
