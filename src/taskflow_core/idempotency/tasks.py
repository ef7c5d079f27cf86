"""Expired idempotency keys are deleted by beat (`CELERY_BEAT_SCHEDULE`)."""

from __future__ import annotations

from django.utils import timezone

from taskflow_core.config.celery_app import app
from taskflow_core.idempotency.services import idempotency_prune


@app.task(name="taskflow_core.idempotency.tasks.idempotency_prune_task")
def idempotency_prune_task() -> int:
    return idempotency_prune(now=timezone.now())
