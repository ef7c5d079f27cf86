"""`GET /api/v1/health/`: is the database reachable, is Redis reachable."""

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


class HealthApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "database": serializers.BooleanField(),
                    "redis": serializers.BooleanField(),
                },
            ),
            503: None,
        }
    )
    def get(self, request: Request) -> Response:
        checks = {"database": database_ok(), "redis": redis_ok()}
        healthy = all(checks.values())
        body = {"status": "ok" if healthy else "unavailable", **checks}
        return Response(
            body, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
        )
