"""Celery jobs for deadlines (the `default` queue), run by beat every
TASKFLOW_DEADLINE_SCAN_SECONDS."""

from __future__ import annotations

import logging

from taskflow_core.config.celery_app import app
from taskflow_core.reminders.services import deadline_scan

logger = logging.getLogger(__name__)


@app.task(name="taskflow_core.reminders.tasks.deadline_scan_task")
def deadline_scan_task() -> int:
    alerts = deadline_scan()
    # Tests and operators follow scans through this line.
    logger.info("deadline scan finished: %s new alerts", len(alerts))
    return len(alerts)
