"""The inbox entry's public representation, shared by the REST API and `notification.created`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from taskflow_core.notifications.models import Notification


class ActorSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()


class NotificationOutputSerializer(serializers.ModelSerializer[Notification]):
    actor = ActorSerializer(allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "type", "task", "actor", "message", "created_at", "read_at"]
        read_only_fields = fields


def notification_payload(notification: Notification) -> dict[str, Any]:
    return dict(NotificationOutputSerializer(notification).data)
