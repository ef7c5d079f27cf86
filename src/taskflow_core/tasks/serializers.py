"""The task's public representation, shared by the REST API and the `task.*` events."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from taskflow_core.tasks.models import Task


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


def task_payloads(tasks: list[Task]) -> list[dict[str, Any]]:
    """`task_payload` for many tasks, building the serializer's fields once, not per task."""
    return [dict(item) for item in TaskOutputSerializer(tasks, many=True).data]
