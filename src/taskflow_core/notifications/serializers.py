"""The inbox entry's public representation, shared by the REST API and `notification.created`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from taskflow_core.common.fields import api_datetime
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
    """The entry as `NotificationOutputSerializer` shows it, built directly: a plain function,
    as for tasks (`taskflow_core.tasks.serializers`), since every assignment builds one for its
    event; tests/notifications/test_representation.py holds the two to the same output."""
    actor = notification.actor
    return {
        "id": notification.pk,
        "type": notification.type,
        "task": notification.task_id,
        "actor": None if actor is None else {"id": actor.pk, "username": actor.username},
        "message": notification.message,
        "created_at": api_datetime(notification.created_at),
        "read_at": api_datetime(notification.read_at),
    }
