"""Fixtures for the deadline tests: SMTP server, worker and beat scanning every second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django import Settings

from tests.emails.background import (
    Mailbox,
    celery_beat,
    celery_worker,
    smtp_server,
    worker_env,
)
from tests.support.processes import ServerProcess


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def background(
    smtp: tuple[Mailbox, int], django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A worker and a beat whose deadline scan runs every second; yields the worker."""
    env = worker_env(smtp[1], TASKFLOW_DEADLINE_SCAN_SECONDS="1")
    schedule: Path = tmp_path_factory.mktemp("beat") / "celerybeat-schedule"
    with celery_worker(env) as worker, celery_beat(env, schedule):
        yield worker


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int], background: ServerProcess) -> Iterator[Mailbox]:
    smtp[0].reset()
    yield smtp[0]
    smtp[0].reset()


@pytest.fixture(autouse=True)
def short_email_delay(settings: Settings) -> None:
    """Notifications made in this process (assignments) wait no time for their email either."""
    settings.TASKFLOW_EMAIL_DELAY_UNIT_SECONDS = 0
