"""Fixtures for the email tests: a real SMTP server, a real Celery worker and beat (which runs
the digest job twice a second), module-scoped so they start once per module, and a clean
mailbox per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_django import Settings

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Role, Team
from tests.emails.background import Mailbox, celery_beat, celery_worker, smtp_server, worker_env
from tests.support.processes import ServerProcess


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def worker(
    smtp: tuple[Mailbox, int], django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = worker_env(smtp[1])
    schedule: Path = tmp_path_factory.mktemp("beat") / "celerybeat-schedule"
    with celery_worker(env) as process, celery_beat(env, schedule):
        yield process


@pytest.fixture(autouse=True)
def short_email_delay(settings: Settings) -> None:
    """Notifications made in this process: a delay "minute" lasts no time (tests that need a
    real wait set their own unit)."""
    settings.TASKFLOW_EMAIL_DELAY_UNIT_SECONDS = 0


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int], worker: ServerProcess) -> Iterator[Mailbox]:
    box = smtp[0]
    box.reset()
    yield box
    if box.hold is not None:
        box.hold.set()  # never leave the worker stuck in DATA for the next test
    box.reset()


@pytest.fixture
def carol(make_user: Callable[..., User], team: Team) -> User:
    """A second member with email on, used as a barrier: her email arriving proves the worker
    has processed everything queued before it."""
    user = make_user("carol")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    return user
