"""A plain Django view writing the same task row as `POST /api/v1/tasks/`.

No DRF, no JWT, no validation, no activity row, no outbox: the floor the real API is compared
against.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from taskflow_core.tasks.models import Task


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


urlpatterns = [path("bench/tasks/", task_create)]
