"""Each test publishes to a stream of its own in the configured Redis, deleted afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings as django_settings
from pytest_django.fixtures import Settings


@pytest.fixture
def event_stream(settings: Settings) -> Iterator[str]:
    name = f"taskflow:test:{{events-{uuid.uuid4().hex}}}"
    client = redis.Redis.from_url(django_settings.REDIS_URL)  # before a test points it elsewhere
    settings.TASKFLOW_EVENT_STREAM = name
    yield name
    client.delete(name)
    # Markers, user indexes, task versions, the epoch.
    for key in client.scan_iter(match=f"{name}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def stream_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(django_settings.REDIS_URL, decode_responses=True)
    yield client
    client.close()
