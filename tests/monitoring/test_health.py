"""`GET /api/v1/health/`: reachable engines, and the event path watched (docs/reliability.md)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent, RelayHeartbeat
from taskflow_core.events.relay import OutboxRelay
from tests.emails.background import wait_until

pytestmark = pytest.mark.django_db


def beat(seconds_ago: float = 0) -> None:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    RelayHeartbeat.objects.create(name="relay-test", started_at=at, beat_at=at)


def unpublished(seconds_ago: float, user: User) -> OutboxEvent:
    return OutboxEvent.objects.create(
        name="task.deleted",
        team_id=1,
        actor=None,
        data={"task": {"id": 1}},
        recipients=[user.pk],
        occurred_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def health() -> dict[str, object]:
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 200, response.content
    body: dict[str, object] = response.json()
    return body


def test_ok_with_a_live_relay_and_no_backlog() -> None:
    beat()
    body = health()
    assert body["status"] == "ok"
    assert (body["database"], body["redis"], body["problems"]) == (True, True, [])
    assert body["outbox"] == {"backlog": 0, "oldest_age_seconds": 0.0}
    relay = body["relay"]
    assert isinstance(relay, dict)
    assert 0 <= relay["heartbeat_age_seconds"] < 5


def test_degraded_not_failing_when_no_relay_beats() -> None:
    body = health()
    assert body["status"] == "degraded"
    assert body["relay"] == {"heartbeat_age_seconds": None}
    assert body["problems"] == ["relay heartbeat missing"]

    beat(seconds_ago=120)
    assert health()["problems"] == ["relay heartbeat missing"]


def test_degraded_when_the_outbox_backlog_is_old(alice: User) -> None:
    beat()
    unpublished(seconds_ago=1, user=alice)
    assert health()["status"] == "ok"  # a young backlog is the hook's or the relay's normal lag
    unpublished(seconds_ago=90, user=alice)
    body = health()
    assert body["status"] == "degraded"
    assert body["problems"] == ["outbox backlog is old"]
    outbox = body["outbox"]
    assert isinstance(outbox, dict)
    assert outbox["backlog"] == 2
    assert outbox["oldest_age_seconds"] >= 90


def test_health_is_503_when_redis_is_unreachable(settings: Settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["redis"] is False


@pytest.mark.django_db(transaction=True)
def test_the_relay_beats_while_redis_is_down_and_counts_its_failures(
    settings: Settings, alice: User
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    unpublished(seconds_ago=10, user=alice)
    relay = OutboxRelay(
        poll_seconds=0.05, grace_seconds=0, retention_seconds=3600, heartbeat_seconds=0.05
    )

    def run() -> None:
        try:
            relay.run_forever()
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    try:
        wait_until(
            lambda: RelayHeartbeat.objects.filter(failures_total__gt=0).exists(),
            30,
            "a heartbeat counting failures",
        )
    finally:
        relay.stop.set()
        thread.join(10)
    row = RelayHeartbeat.objects.get()
    assert (timezone.now() - row.beat_at).total_seconds() < 10
