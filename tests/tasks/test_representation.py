"""`task_payload` (a plain function) renders a task exactly as `TaskOutputSerializer` (which
documents it in the OpenAPI schema) does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.serializers import TaskOutputSerializer, task_payload
from taskflow_core.tasks.services import task_update

MakeTask = Callable[..., Task]


def test_same_output_as_the_serializer(make_task: MakeTask, alice: User, bob: User) -> None:
    bare = make_task(title="bare")
    full = make_task(
        title="full",
        description="line one\nline two",
        priority="urgent",
        due_at=datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        assignee=bob,
    )
    full = task_update(task_id=full.pk, actor=alice, data={"status": "done"})
    whole_second = make_task(title="whole second", due_at=datetime(2030, 1, 1, tzinfo=UTC))

    for task in (bare, full, whole_second, Task.objects.get(pk=full.pk)):
        assert task_payload(task) == dict(TaskOutputSerializer(task).data)
    assert task_payload(full)["completed_at"] is not None
    assert task_payload(full)["due_at"] == "2030-01-02T03:04:05.678901Z"
