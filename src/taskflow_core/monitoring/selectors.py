"""What the health check and `/metrics` read from PostgreSQL: the outbox backlog, the relays'
heartbeats and the email queue (docs/reliability.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.events.models import OutboxEvent, RelayHeartbeat


@dataclass(frozen=True)
class OutboxState:
    backlog: int  # committed events not yet in the stream
    oldest_age_seconds: float  # 0 when there is no backlog


@dataclass(frozen=True)
class RelayState:
    heartbeat_age_seconds: float | None  # None: no relay ever beat
    published_total: int
    failures_total: int


@dataclass(frozen=True)
class EmailState:
    pending: int
    oldest_pending_age_seconds: float
    failed: int


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def outbox_state(*, now: datetime | None = None) -> OutboxState:
    now = now or timezone.now()
    row = OutboxEvent.objects.filter(published_at__isnull=True).aggregate(
        backlog=Count("id"), oldest=Min("occurred_at")
    )
    return OutboxState(backlog=row["backlog"], oldest_age_seconds=_age(now, row["oldest"]))


def relay_state(*, now: datetime | None = None) -> RelayState:
    now = now or timezone.now()
    row = RelayHeartbeat.objects.aggregate(
        beat=Max("beat_at"), published=Sum("published_total"), failures=Sum("failures_total")
    )
    return RelayState(
        heartbeat_age_seconds=None if row["beat"] is None else _age(now, row["beat"]),
        published_total=row["published"] or 0,
        failures_total=row["failures"] or 0,
    )


def email_state(*, now: datetime | None = None) -> EmailState:
    now = now or timezone.now()
    pending = Q(status=DeliveryStatus.PENDING)
    row = EmailDelivery.objects.aggregate(
        pending=Count("id", filter=pending),
        oldest=Min("created_at", filter=pending),
        failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
    )
    return EmailState(
        pending=row["pending"],
        oldest_pending_age_seconds=_age(now, row["oldest"]),
        failed=row["failed"],
    )
