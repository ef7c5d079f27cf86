"""The digest job beat runs every `TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS`."""

from __future__ import annotations

import logging

from taskflow_core.config.celery_app import app
from taskflow_core.notifications.digest import email_digest_scan

logger = logging.getLogger(__name__)


@app.task(name="taskflow_core.notifications.tasks.email_digest_task")
def email_digest_task() -> int:
    queued = email_digest_scan()
    logger.info("email digest scan finished: %s emails queued", queued)
    return queued
