"""The task's public representation, shared by the REST API and the `task.*` events."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from taskflow_core.tasks.models import Task
from taskflow_events.payloads import DESCRIPTION_PREVIEW_CHARS


class TaskOutputSerializer(serializers.ModelSerializer[Task]):
    class Meta:
        model = Task
        fields = [
            "id",
            "team",
            "title",
            "description",
            "status",
            "priority",
            "due_at",
            "assignee",
            "created_by",
            "created_at",
            "updated_at",
            "completed_at",
            "version",
        ]
        read_only_fields = fields


def task_payload(task: Task) -> dict[str, Any]:
    return dict(TaskOutputSerializer(task).data)


def task_event_payload(task: Task) -> dict[str, Any]:
    """The task as `task.*` events carry it: the description cut to a preview (and flagged),
    so that no event grows with the text (docs/events.md "Bounds")."""
    return _as_event_payload(task_payload(task))


def task_event_payloads(tasks: list[Task]) -> list[dict[str, Any]]:
    """`task_event_payload` for many tasks, building the serializer's fields once, not per task."""
    return [_as_event_payload(dict(item)) for item in TaskOutputSerializer(tasks, many=True).data]


def _as_event_payload(payload: dict[str, Any]) -> dict[str, Any]:
    description = payload["description"]
    payload["description_truncated"] = len(description) > DESCRIPTION_PREVIEW_CHARS
    payload["description"] = description_preview(description)
    return payload


def description_preview(text: str) -> str:
    return text[:DESCRIPTION_PREVIEW_CHARS]


def event_changes(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The activity log's {field: [old, new]} with descriptions cut to previews."""
    if "description" not in changes:
        return changes
    old, new = changes["description"]
    return {**changes, "description": [description_preview(old), description_preview(new)]}
