"""The notification inbox (list, unread count, mark one or all as read) and the email
preferences (`users/me/preferences/`)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.accounts.authentication import request_user
from taskflow_core.accounts.models import EMAIL_DELAY_MAX_MINUTES, User
from taskflow_core.common.fields import JsonBooleanField
from taskflow_core.common.openapi import error_responses
from taskflow_core.common.pagination import Pagination, paginated_response
from taskflow_core.notifications.models import EMAIL_BY_DEFAULT
from taskflow_core.notifications.preferences import email_types_for
from taskflow_core.notifications.selectors import (
    notification_get,
    notification_list,
    notification_unread_count,
)
from taskflow_core.notifications.serializers import NotificationOutputSerializer
from taskflow_core.notifications.services import (
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_update,
)

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


class StrictIntegerField(serializers.IntegerField):
    """Only a JSON integer: `"5"`, `5.5` or `true` are mistakes in a JSON body."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


EMAIL_TYPES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {kind: {"type": "boolean"} for kind in EMAIL_BY_DEFAULT},
    "additionalProperties": False,
}


@extend_schema_field(EMAIL_TYPES_SCHEMA)
class EmailTypesField(serializers.DictField):
    """`{<notification type>: true|false}`; an unknown type names itself in the error."""

    child = JsonBooleanField()

    def to_internal_value(self, data: Any) -> dict[str, bool]:
        value: dict[str, bool] = super().to_internal_value(data)
        unknown = sorted(set(value) - set(EMAIL_BY_DEFAULT))
        if unknown:
            known = ", ".join(EMAIL_BY_DEFAULT)
            raise serializers.ValidationError(
                [f'"{kind[:50]}" is not a notification type ({known}).' for kind in unknown[:5]]
            )
        return value


class PreferencesOutputSerializer(serializers.Serializer[User]):
    email_notifications = serializers.BooleanField(help_text="Email at all (default true).")
    email_types = serializers.SerializerMethodField(
        help_text="Per notification type, whether it is emailed; defaults: "
        + ", ".join(f"`{kind}` {str(on).lower()}" for kind, on in EMAIL_BY_DEFAULT.items())
        + "."
    )
    email_delay_minutes = serializers.IntegerField(
        help_text="How long an email waits for its notification to be read (0-1440, default 5)."
    )

    class Meta:
        ref_name = "Preferences"

    @extend_schema_field(EMAIL_TYPES_SCHEMA)
    def get_email_types(self, user: User) -> dict[str, bool]:
        return email_types_for(user)


class PreferencesApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        email_notifications = JsonBooleanField(required=False)
        email_types = EmailTypesField(required=False)
        email_delay_minutes = StrictIntegerField(
            required=False, min_value=0, max_value=EMAIL_DELAY_MAX_MINUTES
        )

        class Meta:
            ref_name = "PreferencesInput"

    @extend_schema(
        operation_id="users_me_preferences_retrieve",
        summary="My notification email preferences",
        responses={200: PreferencesOutputSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(PreferencesOutputSerializer(request_user(request)).data)

    @extend_schema(
        operation_id="users_me_preferences_update",
        summary="Change my notification email preferences",
        description="Send only what changes. `email_types` is merged into the current choices "
        '(`{"task_commented": true}` turns one type on and leaves the others). A notification '
        "read in the app within `email_delay_minutes` is not emailed; those still unread then "
        "go out together in one email. Changes apply to notifications already waiting too.",
        request=InputSerializer,
        responses={200: PreferencesOutputSerializer, **error_responses(400, 401)},
    )
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = notification_preferences_update(
            user=request_user(request), **serializer.validated_data
        )
        return Response(PreferencesOutputSerializer(user).data)
