from collections.abc import Iterator

import pytest

from taskflow_core.config.celery_app import app
from tests.events.conftest import event_stream, stream_redis

__all__ = ["eager", "event_stream", "stream_redis"]


@pytest.fixture
def eager() -> Iterator[None]:
    """The mail outbox's job runs in-process (unit tests; tests/emails has the real worker)."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
