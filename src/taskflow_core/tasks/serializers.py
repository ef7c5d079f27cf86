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
