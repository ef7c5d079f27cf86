"""`notification_payload` (a plain function, the `notification.created` event's entry) renders
an inbox entry exactly as `NotificationOutputSerializer` (the REST inbox, and the OpenAPI
schema) does."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification, NotificationType
from taskflow_core.notifications.serializers import (
    NotificationOutputSerializer,
    notification_payload,
)
from taskflow_core.notifications.services import notification_create, notification_mark_read
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team


def test_same_output_as_the_serializer(team: Team, alice: User, bob: User) -> None:
    task = task_create(team=team, actor=alice, title="Ship it")

    def notify(type: str, message: str) -> Notification:
        return notification_create(
            recipient=bob, type=type, task_id=task.pk, team_id=team.pk, actor=alice, message=message
        )

    fresh = notify(NotificationType.TASK_ASSIGNED, 'alice assigned you "Ship it"')
    read = notification_mark_read(notification=notify(NotificationType.MENTIONED, "mentioned"))
    without_actor_or_task = Notification.objects.create(
        recipient=bob,
        type=NotificationType.DEADLINE_APPROACHING,
        task=None,
        actor=None,
        message="due",
    )
    whole_second = Notification.objects.create(recipient=bob, type="task_assigned", message="x")
    Notification.objects.filter(pk=whole_second.pk).update(
        created_at=datetime(2030, 1, 1, tzinfo=UTC)
    )

    entries = [fresh, read, without_actor_or_task, *Notification.objects.filter(recipient=bob)]
    assert len(entries) == 7
    for entry in entries:
        assert notification_payload(entry) == dict(NotificationOutputSerializer(entry).data)
    assert notification_payload(read)["read_at"] is not None
    assert notification_payload(fresh)["actor"] == {"id": alice.pk, "username": "alice"}
    stored = Notification.objects.get(pk=whole_second.pk)
    assert notification_payload(stored)["created_at"] == "2030-01-01T00:00:00Z"
    with timezone.override("Europe/Paris"):
        assert notification_payload(stored) == dict(NotificationOutputSerializer(stored).data)
        assert notification_payload(stored)["created_at"] == "2030-01-01T01:00:00+01:00"
