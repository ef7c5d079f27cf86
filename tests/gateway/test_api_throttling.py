"""The API's own rate limit on sign-in, seen through the gateway (docs/api.md, "Throttling"):
with nginx's auth zone far above the core's rate, the refusal is DRF's 429 (JSON `detail`,
`Retry-After`), not nginx's. The core's rate comes from its environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from pytest_django import DjangoDbBlocker

from tests.gateway.conftest import StartGateway, core_server


def forget_sign_in_counters() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for key in client.scan_iter(match="*taskflow:throttle:login:*"):
            client.delete(key)
    finally:
        client.close()


pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CORE_RATE = 3  # sign-ins per minute per client address, set in the core's environment


@pytest.fixture(scope="module")
def throttled_core(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    with core_server(django_db_blocker, TASKFLOW_THROTTLE_LOGIN=f"{CORE_RATE}/minute") as address:
        yield address


def test_sign_in_over_the_core_rate_is_drf_429_through_the_gateway(
    throttled_core: str, start_gateway: StartGateway, unused_realtime: list[str]
) -> None:
    # nginx admits 600 a minute with a burst of 50: none of these reaches its limit.
    gateway = start_gateway([throttled_core], unused_realtime, auth_rate="600r/m", auth_burst=50)
    # The counters live in the shared Redis per client address (always 127.0.0.1 here): start
    # this minute's window empty, whatever other tests signed in before.
    forget_sign_in_counters()
    credentials = {"username": "nobody", "password": "not-the-password"}
    with gateway.client() as client:
        statuses = []
        refused = None
        for _ in range(CORE_RATE + 3):
            response = client.post("/api/v1/auth/token/", json=credentials)
            statuses.append(response.status_code)
            if response.status_code == 429 and refused is None:
                refused = response

    assert statuses == [401] * CORE_RATE + [429] * 3, statuses
    assert refused is not None
    assert refused.headers["content-type"].startswith("application/json")
    # DRF's wording; nginx's own 429 says "Too many requests; try again later."
    assert "throttled" in refused.json()["detail"].lower()
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= 60
