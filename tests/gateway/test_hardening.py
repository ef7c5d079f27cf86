"""Hostile requests through the real gateway and gunicorn: clean JSON 4xx, limits on the admin
login, a Content-Security-Policy on HTML, and an access log that cannot be forged."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from pytest_django import DjangoDbBlocker

from taskflow_deploy.commands import core_command
from tests.gateway.conftest import StartGateway, wait_until_ok
from tests.support.processes import REPO, ServerProcess, free_port, service_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_deeply_nested_json_is_a_400_through_the_gateway(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime)
    nested = "[" * 100_000
    with gateway.client() as client:
        for path, status in (("/api/v1/auth/token/", 400), ("/api/v1/auth/register/", 400)):
            response = client.post(
                path, content=nested, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == status, response.text
            assert "nested too deeply" in response.json()["detail"]
        protected = client.post(
            "/api/v1/teams/", content=nested, headers={"Content-Type": "application/json"}
        )
        assert protected.status_code == 401
        assert protected.headers["content-type"] == "application/json"


def test_malformed_paths_are_json_through_the_gateway(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime)
    with gateway.client() as client:
        slashless = client.post("/api/v1/auth/register", json={"username": "x"})
        assert slashless.status_code == 404
        assert slashless.json() == {
            "detail": "Not found. API paths end with a slash: /api/v1/auth/register/"
        }
        for path in ("/api/v1/teams/abc/", "/api/v1/nowhere/"):
            response = client.get(path)
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/json"
        wrong_method = client.put("/api/v1/health/", json={})
        assert wrong_method.status_code == 405
        assert wrong_method.headers["content-type"] == "application/json"


def test_make_run_has_debug_off_unless_asked_for() -> None:
    probe = "import taskflow_core.config.settings.local as s; print(s.DEBUG)"

    def debug_with(**extra: str) -> str:
        env = service_env(**extra)
        env.pop("TASKFLOW_DEBUG", None)
        env.update(extra)
        return subprocess.run(
            [sys.executable, "-c", probe],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()

    assert debug_with() == "False"
    assert debug_with(TASKFLOW_DEBUG="1") == "True"


def test_the_admin_login_is_rate_limited_at_the_gateway(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime, auth_rate="30r/m", auth_burst=5)
    with gateway.client() as client:
        statuses = [
            client.post("/admin/login/", data={"username": "root", "password": "guess"}).status_code
            for _ in range(40)
        ]
        limited = client.post("/admin/login/", data={"username": "root", "password": "guess"})
    assert statuses[0] != 429
    assert statuses.count(429) >= 25
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == {"detail": "Too many requests; try again later."}


def test_html_pages_carry_a_content_security_policy(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime)
    with gateway.client() as client:
        admin = client.get("/admin/login/")
        docs = client.get("/api/docs/")
        api = client.get("/api/v1/health/")
    for page in (admin, docs):
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        assert "frame-ancestors 'none'" in policy
    # The docs page runs no inline script: its init script is a same-origin URL.
    assert "<script>" not in docs.text
    assert "content-security-policy" not in api.headers


def test_the_core_access_log_escapes_control_characters(
    django_db_blocker: DjangoDbBlocker,
) -> None:
    with django_db_blocker.unblock():
        env = service_env()
    port = free_port()
    args = core_command(f"127.0.0.1:{port}")
    with ServerProcess(args, env=env, port=port, startup_timeout=60) as core:
        wait_until_ok(f"http://127.0.0.1:{port}/api/v1/health/")
        # A raw request: HTTP clients would re-encode the path.
        forged = "/api/v1/x%0d%0a127.0.0.1%20%22GET%20/admin/%22%20200%1b[2J%C2%9b"
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            raw.sendall(
                f"GET {forged} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            while raw.recv(65536):
                pass
        deadline = time.monotonic() + 30
        while "/api/v1/x" not in core.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = core.output()
    line = next(line for line in log.splitlines() if line.startswith('127.0.0.1 "GET /api/v1/x'))
    assert "\x1b" not in log
    assert "\x9b" not in log
    assert r"/api/v1/x\x0d\x0a127.0.0.1 \x22GET /admin/\x22 200\x1b[2J" in line
    assert line.endswith("s")  # the rest of the line (status, time) is still on this line
    assert not any(other.startswith('127.0.0.1 "GET /admin/') for other in log.splitlines())
