"""The task's public representation, shared by the REST API and the `task.*` events.

`TaskOutputSerializer` documents it (the OpenAPI schema); `task_payload` produces it: a plain
function, about ten times cheaper than building and running the serializer per request or per
row (bench/NOTES.md, "P2"), held to the very same output by tests/tasks/test_representation.py.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from taskflow_core.common.fields import api_datetime
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


# The columns `task_row_payload` reads, by attribute name.
TASK_COLUMNS = (
    "id",
    "team_id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "assignee_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "completed_at",
    "version",
)


def task_payload(task: Task) -> dict[str, Any]:
    """The task as the API and the events show it (`TaskOutputSerializer`'s fields)."""
    return task_row_payload({column: getattr(task, column) for column in TASK_COLUMNS})


def task_row_payload(row: dict[str, Any], zone: tzinfo | None = None) -> dict[str, Any]:
    """`task_payload` of a row read as `.values(*TASK_COLUMNS)`: a list renders its page from
    rows, without building a model instance per task (bench/NOTES.md, "P2")."""
    zone = zone or timezone.get_current_timezone()
    return {
        "id": row["id"],
        "team": row["team_id"],
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "priority": row["priority"],
        "due_at": api_datetime(row["due_at"], zone),
        "assignee": row["assignee_id"],
        "created_by": row["created_by_id"],
        "created_at": api_datetime(row["created_at"], zone),
        "updated_at": api_datetime(row["updated_at"], zone),
        "completed_at": api_datetime(row["completed_at"], zone),
        "version": row["version"],
    }


def task_event_payload(task: Task) -> dict[str, Any]:
    """The task as `task.*` events carry it: the description cut to a preview (and flagged),
    so that no event grows with the text (docs/events.md "Bounds")."""
    return _as_event_payload(task_payload(task))


def task_event_payloads(tasks: list[Task]) -> list[dict[str, Any]]:
    """`task_event_payload` for many tasks."""
    return [_as_event_payload(task_payload(task)) for task in tasks]


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
