"""`GET /metrics` on the core: Prometheus text, the same from any worker (docs/reliability.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.events.models import RelayHeartbeat
from tests.monitoring.test_health import unpublished

pytestmark = pytest.mark.django_db


def scrape() -> dict[str, float]:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_report_the_outbox_the_relay_and_the_email_queue(alice: User) -> None:
    now = timezone.now()
    unpublished(seconds_ago=42, user=alice)
    unpublished(seconds_ago=3, user=alice)
    RelayHeartbeat.objects.create(
        name="a", started_at=now, beat_at=now, published_total=7, failures_total=2
    )
    RelayHeartbeat.objects.create(
        name="b", started_at=now, beat_at=now - timedelta(hours=1), published_total=5
    )
    for status in (DeliveryStatus.PENDING, DeliveryStatus.PENDING, DeliveryStatus.FAILED):
        EmailDelivery.objects.create(to="x@example.com", status=status, next_attempt_at=now)

    metrics = scrape()

    assert metrics["taskflow_outbox_backlog"] == 2
    assert 42 <= metrics["taskflow_outbox_oldest_age_seconds"] < 60
    assert 0 <= metrics["taskflow_relay_heartbeat_age_seconds"] < 5
    assert metrics["taskflow_relay_published_total"] == 12
    assert metrics["taskflow_relay_publish_failures_total"] == 2
    assert metrics["taskflow_email_queue_depth"] == 2
    assert metrics["taskflow_email_failed"] == 1


def test_metrics_without_any_relay_say_so() -> None:
    metrics = scrape()
    assert metrics["taskflow_outbox_backlog"] == 0
    assert (
        metrics["taskflow_relay_heartbeat_age_seconds"]
        != metrics["taskflow_relay_heartbeat_age_seconds"]
    )  # NaN: no relay ever beat


def test_metrics_are_not_under_the_api_and_refuse_writes() -> None:
    assert Client().get("/api/v1/metrics").status_code == 404
    assert Client().post("/metrics").status_code == 405
