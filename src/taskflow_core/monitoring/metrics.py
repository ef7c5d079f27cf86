"""`GET /metrics` on the core: Prometheus text format, read from PostgreSQL at scrape time.

Why from the database: gunicorn runs several worker processes, and a counter kept in one of
them is one worker's share, lost when it restarts (prometheus_client's multiprocess mode
answers that with a shared directory of mmap files, cleaned on every start). Every figure asked
for here is already recorded in PostgreSQL — the outbox, the relays' heartbeat rows and their
counters, the email outbox — so any worker gives the same, complete answer with a few
aggregate queries over partial indexes, and nothing is lost by a restart. Not routed through
the gateway (nginx answers 404 for /metrics): scrape each core directly. docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from taskflow_core.monitoring.selectors import email_state, outbox_state, relay_state


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        outbox, relay, email = outbox_state(), relay_state(), email_state()
        yield GaugeMetricFamily(
            "taskflow_outbox_backlog", "Committed events not yet in the stream.", outbox.backlog
        )
        yield GaugeMetricFamily(
            "taskflow_outbox_oldest_age_seconds",
            "Age of the oldest unpublished event (0 without a backlog).",
            outbox.oldest_age_seconds,
        )
        yield GaugeMetricFamily(
            "taskflow_relay_heartbeat_age_seconds",
            "Seconds since a relay last beat (NaN: no relay ever did).",
            float("nan") if relay.heartbeat_age_seconds is None else relay.heartbeat_age_seconds,
        )
        yield CounterMetricFamily(
            "taskflow_relay_published",
            "Events the relay appended to the stream: ones the after-commit hook did not.",
            relay.published_total,
        )
        yield CounterMetricFamily(
            "taskflow_relay_publish_failures",
            "Relay rounds that failed on Redis or PostgreSQL.",
            relay.failures_total,
        )
        yield GaugeMetricFamily(
            "taskflow_email_queue_depth", "Emails waiting to be sent.", email.pending
        )
        yield GaugeMetricFamily(
            "taskflow_email_oldest_pending_age_seconds",
            "Age of the oldest pending email (0 when none is pending).",
            email.oldest_pending_age_seconds,
        )
        yield GaugeMetricFamily(
            "taskflow_email_failed", "Emails given up on after every attempt.", email.failed
        )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
