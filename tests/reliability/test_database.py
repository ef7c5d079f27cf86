"""The database goes away under a running core: a dropped connection is replaced without an
error, and an unreachable database is a JSON 503 with `Retry-After`, never a 500 or HTML."""

from __future__ import annotations

import httpx
import pytest
from django.db import connection

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Team
from tests.reliability.harness import core_command, token
from tests.support.processes import ServerProcess, free_port, service_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def terminate_other_backends() -> int:
    """pg_terminate_backend every other session on the test database (the core's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_connections_terminated_between_requests_are_replaced(team: Team, alice: User) -> None:
    port = free_port()
    headers = {"Authorization": f"Bearer {token(alice)}"}
    with (
        ServerProcess(core_command(port), port=port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client,
    ):
        for _ in range(16):  # a persistent connection in every worker thread that serves one
            assert client.get("/api/v1/tasks/").status_code == 200
        assert terminate_other_backends() > 0
        statuses = [client.get("/api/v1/tasks/").status_code for _ in range(16)]
        assert statuses == [200] * 16
        assert terminate_other_backends() > 0
        response = client.post("/api/v1/tasks/", json={"team": team.pk, "title": "after"})
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "settings_module",
    ["taskflow_core.config.settings.test", "taskflow_core.config.settings.local"],
    ids=["debug-off", "debug-on"],
)
def test_an_unreachable_database_is_a_json_503_with_retry_after(
    settings_module: str, alice: User
) -> None:
    port = free_port()
    env = service_env(
        DATABASE_URL=f"postgresql://nobody@127.0.0.1:{free_port()}/nothing",
        DJANGO_SETTINGS_MODULE=settings_module,
        TASKFLOW_DEBUG="1",
    )
    headers = {"Authorization": f"Bearer {token(alice)}"}
    with (
        ServerProcess(core_command(port), env=env, port=port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client,
    ):
        for method, path in (("GET", "/api/v1/tasks/"), ("POST", "/api/v1/teams/")):
            response = client.request(method, path, json={"name": "x"})
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/json"
            assert int(response.headers["retry-after"]) > 0
            assert response.json() == {"detail": "The database is unavailable; try again shortly."}
