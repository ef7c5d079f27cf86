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


Entry = tuple[str, dict[str, str]]


def stream_entries(client: redis.Redis, key: str, count: int | None = None) -> list[Entry]:
    """XRANGE of `key` through a `decode_responses` client (`stream_redis`), typed."""
    entries: list[Entry] = client.xrange(key, count=count)  # type: ignore[assignment]
    return entries


def last_stream_id(client: redis.Redis, stream: str) -> str:
    latest: list[Entry] = client.xrevrange(stream, count=1)  # type: ignore[assignment]
    [(entry_id, _fields)] = latest
    return entry_id
