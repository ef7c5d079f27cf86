"""`GET /api/v1/`: where the API's entry points are, for a newcomer or a client discovering them."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# Link name → URL name. A new resource root gets a line here (and in tests/common/test_index.py).
RESOURCE_ROOTS = {
    "register": "auth-register",
    "token": "auth-token",
    "token_refresh": "auth-token-refresh",
    "logout": "auth-logout",
    "me": "users-me",
    "teams": "teams",
    "tasks": "task-list",
    "notifications": "notification-list",
}


class ApiIndexApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="api_index",
        summary="The API's entry points",
        description="Absolute links to the documentation, the schema, the health check, the "
        "WebSocket endpoint (through the gateway; the protocol is in docs/protocol.md) and the "
        "root of each resource. Needs no token.",
        responses={
            200: inline_serializer(
                "ApiIndex",
                {
                    "name": serializers.CharField(),
                    "version": serializers.CharField(),
                    "docs": serializers.URLField(),
                    "schema": serializers.URLField(),
                    "health": serializers.URLField(),
                    "websocket": serializers.CharField(help_text="`ws://` or `wss://` URL"),
                    "resources": serializers.DictField(child=serializers.URLField()),
                },
            )
        },
        auth=[],
    )
    def get(self, request: Request) -> Response:
        def link(url_name: str) -> str:
            return request.build_absolute_uri(reverse(url_name))

        ws_scheme = "wss" if request.is_secure() else "ws"
        return Response(
            {
                "name": "TaskFlow Pro API",
                "version": "v1",
                "docs": link("docs"),
                "schema": link("schema"),
                "health": link("health"),
                "websocket": f"{ws_scheme}://{request.get_host()}/ws",
                "resources": {name: link(url_name) for name, url_name in RESOURCE_ROOTS.items()},
            }
        )
