"""Celery jobs for email (routed to the `email` queue)."""

from __future__ import annotations

from celery import Task

from taskflow_core.config.celery_app import app
from taskflow_core.emails.sending import email_attempt
from taskflow_core.emails.services import email_requeue_stale


@app.task(bind=True, name="taskflow_core.emails.tasks.email_deliver_task", max_retries=None)
def email_deliver_task(self: Task[[int], None], delivery_id: int) -> None:
    """One attempt; the row (not Celery) counts attempts, so limits survive lost jobs."""
    result = email_attempt(delivery_id=delivery_id)
    if result.retry_at is not None:
        raise self.retry(eta=result.retry_at)


@app.task(name="taskflow_core.emails.tasks.email_requeue_stale_task")
def email_requeue_stale_task() -> int:
    return email_requeue_stale()
