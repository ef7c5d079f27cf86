"""The notification inbox: list, unread count, mark one or all as read."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.accounts.authentication import request_user
from taskflow_core.common.openapi import error_responses
from taskflow_core.common.pagination import Pagination, paginated_response
from taskflow_core.notifications.selectors import (
    notification_get,
    notification_list,
    notification_unread_count,
)
from taskflow_core.notifications.serializers import NotificationOutputSerializer
from taskflow_core.notifications.services import notification_mark_all_read, notification_mark_read

UNREAD = OpenApiParameter(
    "unread",
    OpenApiTypes.STR,
    enum=["true", "false"],
    description="`true`: only unread notifications; `false`: only read ones.",
)

COUNT = inline_serializer("NotificationCount", {"count": serializers.IntegerField()})


class NotificationListApi(APIView):
    pagination_class = Pagination

    class FilterSerializer(serializers.Serializer[Any]):
        unread = serializers.ChoiceField(choices=["true", "false"], required=False)

    @extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first",
        parameters=[UNREAD],
        responses={
            200: NotificationOutputSerializer(many=True),
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        unread = filters.validated_data.get("unread")
        notifications = notification_list(
            user=request_user(request), unread=None if unread is None else unread == "true"
        )
        return paginated_response(
            request=request,
            view=self,
            queryset=notifications,
            serializer_class=NotificationOutputSerializer,
        )


class NotificationUnreadCountApi(APIView):
    @extend_schema(
        operation_id="notifications_unread_count",
        summary="How many of your notifications are unread",
        responses={200: COUNT, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response({"count": notification_unread_count(user=request_user(request))})


class NotificationReadApi(APIView):
    @extend_schema(
        operation_id="notifications_read",
        summary="Mark one of your notifications as read",
        description="Idempotent: a notification already read keeps its `read_at`.",
        request=None,
        responses={200: NotificationOutputSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, notification_id: int) -> Response:
        notification = notification_get(user=request_user(request), notification_id=notification_id)
        if notification is None:
            raise Http404
        notification = notification_mark_read(notification=notification)
        return Response(NotificationOutputSerializer(notification).data)


class NotificationReadAllApi(APIView):
    @extend_schema(
        operation_id="notifications_read_all",
        summary="Mark all your notifications as read",
        request=None,
        responses={
            200: inline_serializer(
                "NotificationsMarkedRead", {"marked_read": serializers.IntegerField()}
            ),
            **error_responses(401),
        },
    )
    def post(self, request: Request) -> Response:
        marked = notification_mark_all_read(user=request_user(request))
        return Response({"marked_read": marked}, status=status.HTTP_200_OK)
