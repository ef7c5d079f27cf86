"""Fixtures for the email tests: a real SMTP server and a real Celery worker (module-scoped, so
the worker starts once per module) and a clean mailbox per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Role, Team
from tests.emails.background import Mailbox, celery_worker, smtp_server, worker_env
from tests.support.processes import ServerProcess


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def worker(smtp: tuple[Mailbox, int], django_db_setup: None) -> Iterator[ServerProcess]:
    with celery_worker(worker_env(smtp[1])) as process:
        yield process


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
