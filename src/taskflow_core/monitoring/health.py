"""`GET /api/v1/health/`: the database and Redis reachable (else 503), and the event path
watched: the outbox backlog's age and the relay's heartbeat (past their thresholds the status
is `degraded`, still 200: the API works, events are late). docs/reliability.md."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.monitoring.selectors import outbox_state, relay_state


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        with client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def event_path() -> tuple[dict[str, object], list[str]]:
    """The outbox and relay figures, and what in them is past its threshold."""
    outbox, relay = outbox_state(), relay_state()
    problems = []
    if outbox.oldest_age_seconds > settings.TASKFLOW_HEALTH_OUTBOX_AGE_SECONDS:
        problems.append("outbox backlog is old")
    heartbeat = relay.heartbeat_age_seconds
    if heartbeat is None or heartbeat > settings.TASKFLOW_HEALTH_RELAY_HEARTBEAT_SECONDS:
        problems.append("relay heartbeat missing")
    figures: dict[str, object] = {
        "outbox": {
            "backlog": outbox.backlog,
            "oldest_age_seconds": round(outbox.oldest_age_seconds, 1),
        },
        "relay": {
            "heartbeat_age_seconds": None if heartbeat is None else round(heartbeat, 1),
        },
    }
    return figures, problems


class HealthApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(help_text="ok or degraded"),
                    "database": serializers.BooleanField(),
                    "redis": serializers.BooleanField(),
                    "outbox": inline_serializer(
                        "HealthOutbox",
                        {
                            "backlog": serializers.IntegerField(),
                            "oldest_age_seconds": serializers.FloatField(),
                        },
                    ),
                    "relay": inline_serializer(
                        "HealthRelay",
                        {"heartbeat_age_seconds": serializers.FloatField(allow_null=True)},
                    ),
                    "problems": serializers.ListField(child=serializers.CharField()),
                },
            ),
            503: None,
        }
    )
    def get(self, request: Request) -> Response:
        checks = {"database": database_ok(), "redis": redis_ok()}
        if not all(checks.values()):
            return Response(
                {"status": "unavailable", **checks}, status=status.HTTP_503_SERVICE_UNAVAILABLE
            )
        figures, problems = event_path()
        body = {"status": "degraded" if problems else "ok", **checks, **figures}
        return Response({**body, "problems": problems}, status=status.HTTP_200_OK)
