"""`GET|PATCH /api/v1/users/me/preferences/`: which notifications are emailed, and when."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.accounts.authentication import request_user
from taskflow_core.accounts.models import EMAIL_DELAY_MAX_MINUTES, User
from taskflow_core.common.fields import JsonBooleanField
from taskflow_core.common.openapi import error_responses
from taskflow_core.notifications.models import EMAIL_BY_DEFAULT
from taskflow_core.notifications.preferences import email_types_for
from taskflow_core.notifications.services import notification_preferences_update


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
