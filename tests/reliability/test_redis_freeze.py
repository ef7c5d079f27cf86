"""Drill: Redis frozen (SIGSTOP) for seconds while users write through the API.

No request waits on the frozen Redis beyond the request path's bound (docs/reliability.md):
each write answers well under a second (the bound is 50 ms; one second is a functional margin
for a loaded machine, the p99 is measured and reported, not asserted). After SIGCONT every
event reaches every entitled socket exactly once and every email goes out exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.events.models import OutboxEvent
from taskflow_core.teams.models import Team
from tests.reliability.conftest import percentile
from tests.reliability.harness import (
    RecordingSocket,
    compare,
    drill_stack,
    emails_exactly_once,
    token,
    verdict_totals,
    wait_for_delivery,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

FREEZE_SECONDS = 6.0


def last_id(model: Any) -> int:
    row = model.objects.order_by("-pk").first()
    return int(row.pk) if row is not None else 0


def test_writes_during_a_redis_freeze_answer_at_once_and_nothing_is_lost(
    tmp_path: Path,
    drill_stream: str,
    crew: tuple[Team, list[User]],
    record_drill: Callable[..., None],
) -> None:
    team, users = crew
    owner = users[0]
    since_event, since_email = last_id(OutboxEvent), last_id(EmailDelivery)
    with drill_stack(tmp_path, drill_stream) as stack:
        sockets = [RecordingSocket(stack.ws_url, user) for user in users]
        try:
            for socket in sockets:
                socket.wait_ready()
            client = httpx.Client(
                base_url=stack.api,
                headers={"Authorization": f"Bearer {token(owner)}"},
                timeout=30,
            )
            stack.cleanup(client.close)
            tasks = []
            baseline: list[float] = []  # the same writes with Redis answering
            for n in range(10):  # warm both gunicorn workers and their Redis connections
                started = time.perf_counter()
                response = client.post("/api/v1/tasks/", json={"team": team.pk, "title": f"t{n}"})
                baseline.append(time.perf_counter() - started)
                assert response.status_code == 201, response.text
                tasks.append(response.json()["id"])

            stack.redis.freeze()
            frozen_at = time.monotonic()
            latencies: list[float] = []
            try:
                for n in range(20):
                    started = time.perf_counter()
                    if n % 2:
                        assignee = users[1 + n % 3].pk
                        url = f"/api/v1/tasks/{tasks[n // 2]}/"
                        response = client.patch(url, json={"assignee": assignee})
                        expected = 200
                    else:
                        body = {"team": team.pk, "title": f"frozen {n}"}
                        response = client.post("/api/v1/tasks/", json=body)
                        expected = 201
                    seconds = time.perf_counter() - started
                    latencies.append(seconds)
                    assert response.status_code == expected, response.text
                    assert seconds < 1.0, f"write {n} took {seconds:.3f}s with Redis frozen"
                time.sleep(max(0.0, FREEZE_SECONDS - (time.monotonic() - frozen_at)))
            finally:
                stack.redis.thaw()

            wait_for_delivery(sockets, since_event)
            verdicts = [compare(socket, since_event) for socket in sockets]
            emails, problems = emails_exactly_once(stack.mailbox, since_email)
        finally:
            for socket in sockets:
                socket.close()
        record_drill(
            "redis_frozen",
            writes=len(latencies),
            freeze_seconds=FREEZE_SECONDS,
            p50_ms=round(percentile(latencies, 0.5) * 1000, 1),
            p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
            max_ms=round(max(latencies) * 1000, 1),
            baseline_p50_ms=round(percentile(baseline[2:], 0.5) * 1000, 1),
            baseline_max_ms=round(max(baseline[2:]) * 1000, 1),
            **verdict_totals(verdicts),
            emails=emails,
            email_problems=len(problems),
        )
        assert all(v.ok for v in verdicts), (verdicts, stack.logs())
        assert problems == [], (problems, stack.logs())
        assert emails > 0
