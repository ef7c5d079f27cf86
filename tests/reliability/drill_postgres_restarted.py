"""The drill `postgres_restarted` itself (docs/reliability.md): run by
`test_postgres_restarted.py` in a pytest process of its own, whose DATABASE_URL is a scratch
PostgreSQL server (tests/reliability/postgres.py) that this drill stops and starts again while
the writes go on. Its name does not match `test_*.py`, so a normal run does not collect it;
pytest collects it when it is named on the command line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from django.db import connection

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Team
from tests.reliability.harness import DrillStack, RecordingSocket, token
from tests.reliability.postgres import ScratchPostgres
from tests.reliability.test_drills import run_drill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

DOWN_SECONDS = 5.0  # how long PostgreSQL stays away while the writes go on


class Restart:
    """Stops the server (fast shutdown: every session ended), keeps it down a few seconds while
    the writer's requests meet it, and starts it again; on a thread, as the writer blocks."""

    def __init__(self, server: ScratchPostgres, stack: DrillStack, user: User) -> None:
        self.server = server
        self.stack = stack
        self.headers = {"Authorization": f"Bearer {token(user)}"}
        self.down_for = 0.0
        self.answers_while_down: list[httpx.Response] = []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        self.server.stop()
        stopped = time.monotonic()
        while time.monotonic() - stopped < DOWN_SECONDS:
            # What a client sees meanwhile on a read (the writer's own requests are writes).
            self.answers_while_down.append(
                httpx.get(f"{self.stack.api}/api/v1/tasks/", headers=self.headers, timeout=10)
            )
            time.sleep(0.5)
        self.server.start()
        self.down_for = time.monotonic() - stopped


def test_postgres_restarted(
    tmp_path: Path,
    drill_stream: str,
    crew: tuple[Team, list[User]],
    record_drill: Callable[..., None],
) -> None:
    server = ScratchPostgres.from_env()
    assert connection.settings_dict["PORT"] in (server.port, str(server.port)), (
        "the drill restarts the server of its own database only"
    )
    restarts: list[Restart] = []

    def postgres_restarted(stack: DrillStack, sockets: list[RecordingSocket]) -> Callable[[], None]:
        restart = Restart(server, stack, crew[1][0])
        restarts.append(restart)
        restart.thread.start()

        def recover() -> None:
            restart.thread.join(120)
            # This test's own connection died with the server: a new one for the verdict.
            connection.close()

        return recover

    writer = run_drill(
        "postgres_restarted",
        postgres_restarted,
        tmp_path,
        drill_stream,
        crew,
        record_drill,
        figures=lambda: {"down_seconds": round(restarts[0].down_for, 1)},
    )
    [restart] = restarts
    assert not restart.thread.is_alive()
    # While the server was away the core answered 503 in JSON with Retry-After, never a 500
    # (run_drill asserts no 500): the writer met it and retried.
    assert writer.log.statuses[503] >= 1, writer.log.statuses
    for status, content_type, retry_after in writer.log.refusals:
        assert (status, content_type) == (503, "application/json"), writer.log.refusals
        assert retry_after is not None
    down = [
        (answer.status_code, answer.headers.get("Retry-After"))
        for answer in restart.answers_while_down
    ]
    assert down, "no request was made while the server was down"
    assert {status for status, _ in down} == {503}, down
    assert all(retry_after is not None for _, retry_after in down), down
    assert restart.answers_while_down[0].json()["detail"], "a JSON body saying why"
