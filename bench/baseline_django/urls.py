"""Plain Django views doing what `POST /api/v1/tasks/` and `GET /api/v1/tasks/?team=` do at
their core.

No DRF, no JWT, no validation, no activity row, no outbox: the floor the real API is compared
against. The create writes the same task row; the list returns the same first page (the same
rows, fields and JSON shape, `{"count", "next", "previous", "results"}`) of a team's tasks.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from taskflow_core.tasks.models import Task
from taskflow_core.tasks.serializers import TASK_COLUMNS as COLUMNS  # the very same columns


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _row(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": values["id"],
        "team": values["team_id"],
        "title": values["title"],
        "description": values["description"],
        "status": values["status"],
        "priority": values["priority"],
        "due_at": _iso(values["due_at"]),
        "assignee": values["assignee_id"],
        "created_by": values["created_by_id"],
        "created_at": _iso(values["created_at"]),
        "updated_at": _iso(values["updated_at"]),
        "completed_at": _iso(values["completed_at"]),
        "version": values["version"],
    }


@csrf_exempt
@require_POST
def task_create(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body)
    task = Task.objects.create(
        team_id=body["team"], title=body["title"], created_by_id=body["created_by"]
    )
    return JsonResponse(
        {"id": task.pk, "team": task.team_id, "title": task.title, "status": task.status},
        status=201,
    )


@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    team = int(request.GET["team"])
    size = min(int(request.GET.get("page_size", 50)), 200)
    tasks = Task.objects.filter(team_id=team).order_by("-created_at", "-id")
    count = tasks.count()
    results = [_row(values) for values in tasks.values(*COLUMNS)[:size]]
    following = f"{request.path}?page=2&page_size={size}&team={team}" if count > size else None
    return JsonResponse({"count": count, "next": following, "previous": None, "results": results})


urlpatterns = [path("bench/tasks/", task_create), path("bench/tasks/list/", task_list)]
