"""`GET /metrics` on a realtime process: Prometheus text format (docs/reliability.md).

One asyncio process owns its sockets, so its counters are simply in memory: each realtime
process is scraped on its own port (the gateway answers 404 for /metrics). The registry is an
object on `app.state`, not prometheus_client's global one, so every app (and every test) starts
from zero.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from starlette.requests import Request

router = APIRouter()


class RealtimeMetrics:
    def __init__(self, open_sockets: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.open_sockets = Gauge(
            "taskflow_ws_open_sockets",
            "Authenticated sockets on this process.",
            registry=self.registry,
        )
        self.open_sockets.set_function(lambda: float(open_sockets()))
        self.dropped_slow = Counter(
            "taskflow_ws_dropped_slow_sockets",
            "Sockets closed (1013) because they did not read fast enough.",
            registry=self.registry,
        )
        self.replays = Counter(
            "taskflow_ws_replays",
            "Reconnects caught up from `last_event_id`.",
            registry=self.registry,
        )
        self.resyncs = Counter(
            "taskflow_ws_resyncs",
            "`resync` frames sent instead of a replay.",
            registry=self.registry,
        )
        self.stream_errors = Counter(
            "taskflow_stream_read_errors",
            "Failed reads of the event stream (Redis away); the reader retries.",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry: RealtimeMetrics = request.app.state.hub.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
