"""`Idempotency-Key` on POST (docs/api.md, "Retries"), on the real database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.idempotency.middleware import IdempotencyMiddleware
from taskflow_core.idempotency.services import idempotency_prune
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db


def create_task(client: APIClient, team: Team, key: str, title: str = "Write it once") -> Any:
    response = client.post(
        "/api/v1/tasks/",
        {"team": team.pk, "title": title},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    return response


def test_a_replay_returns_the_first_response_and_creates_one_task(
    api: Callable[[User | None], APIClient], team: Team, alice: User
) -> None:
    client = api(alice)
    first = create_task(client, team, "3f1c-create")
    again = create_task(client, team, "3f1c-create")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Task.objects.count() == 1
    assert OutboxEvent.objects.filter(name="task.created").count() == 1


def test_the_same_key_with_another_body_is_422_and_does_nothing(
    api: Callable[[User | None], APIClient], team: Team, alice: User
) -> None:
    client = api(alice)
    assert create_task(client, team, "k-1", title="first").status_code == 201
    response = create_task(client, team, "k-1", title="second")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()
    assert list(Task.objects.values_list("title", flat=True)) == ["first"]


def test_the_same_key_on_another_path_is_another_request(
    api: Callable[[User | None], APIClient], team: Team, alice: User
) -> None:
    client = api(alice)
    assert create_task(client, team, "k-2").status_code == 201
    response = client.post(
        "/api/v1/teams/", {"name": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 422


def test_keys_of_different_users_do_not_collide(
    api: Callable[[User | None], APIClient], team: Team, alice: User, bob: User
) -> None:
    from_alice = create_task(api(alice), team, "shared-key", title="alice's")
    from_bob = create_task(api(bob), team, "shared-key", title="bob's")
    assert from_alice.status_code == from_bob.status_code == 201
    assert from_alice.json()["id"] != from_bob.json()["id"]
    assert sorted(Task.objects.values_list("title", flat=True)) == ["alice's", "bob's"]


def test_a_key_expires_after_24_hours(
    monkeypatch: pytest.MonkeyPatch,
    api: Callable[[User | None], APIClient],
    team: Team,
    alice: User,
) -> None:
    client = api(alice)
    start = timezone.now()
    monkeypatch.setattr(IdempotencyMiddleware, "clock", staticmethod(lambda: start))
    first = create_task(client, team, "daily")
    later = start + timedelta(hours=23, minutes=59)
    monkeypatch.setattr(IdempotencyMiddleware, "clock", staticmethod(lambda: later))
    assert create_task(client, team, "daily").json() == first.json()
    expired = start + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(IdempotencyMiddleware, "clock", staticmethod(lambda: expired))
    fresh = create_task(client, team, "daily")

    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh
    assert fresh.json()["id"] != first.json()["id"]
    assert Task.objects.count() == 2
    assert idempotency_prune(now=expired + timedelta(hours=24, seconds=1)) == 1


def test_errors_are_replayed_too_but_not_a_throttle(
    api: Callable[[User | None], APIClient], team: Team, alice: User, mallory: User
) -> None:
    response = create_task(api(mallory), team, "not-a-member")
    assert response.status_code == 400
    again = create_task(api(mallory), team, "not-a-member")
    assert (again.status_code, again.json()) == (400, response.json())
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "é"])
def test_a_malformed_key_is_400_naming_the_header(
    key: str, api: Callable[[User | None], APIClient], team: Team, alice: User
) -> None:
    response = create_task(api(alice), team, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Task.objects.exists()


def test_anonymous_posts_ignore_the_key(api: Callable[[User | None], APIClient]) -> None:
    body = {
        "username": "newbie",
        "email": "newbie@example.com",
        "password": "a-long-pass-phrase-77",
    }
    client = api(None)
    assert (
        client.post(
            "/api/v1/auth/register/", body, format="json", HTTP_IDEMPOTENCY_KEY="r"
        ).status_code
        == 201
    )
    again = client.post("/api/v1/auth/register/", body, format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert again.status_code == 400  # done again (and refused as a duplicate), not replayed


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_waits_for_the_first_and_replays_it(
    api: Callable[[User | None], APIClient], team: Team, alice: User
) -> None:
    responses: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(4)

    def send() -> None:
        try:
            start.wait(10)
            response = create_task(api(alice), team, "race")
            responses.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(responses) == 4
    assert {status for status, _ in responses} == {201}
    assert len({body["id"] for _, body in responses}) == 1
    assert Task.objects.count() == 1


def test_every_post_operation_documents_the_header() -> None:
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    posts = {path: item["post"] for path, item in schema.json()["paths"].items() if "post" in item}
    assert "/api/v1/tasks/" in posts
    for path, operation in posts.items():
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert headers.count("Idempotency-Key") == 1, path
        if operation.get("security", [{}]) != [{}]:  # honoured only for a signed-in user
            assert {"409", "422"} <= set(operation["responses"]), path


def test_more_live_keys_than_allowed_is_429_with_retry_after(
    api: Callable[[User | None], APIClient], team: Team, alice: User, settings: Any
) -> None:
    settings.TASKFLOW_IDEMPOTENCY_MAX_KEYS_PER_USER = 2
    client = api(alice)
    assert create_task(client, team, "k-1").status_code == 201
    assert create_task(client, team, "k-2").status_code == 201

    refused = create_task(client, team, "k-3")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert Task.objects.count() == 2


def test_a_body_over_the_limit_with_a_key_is_still_413(
    api: Callable[[User | None], APIClient], alice: User
) -> None:
    body = '{"name": "' + "x" * (1024 * 1024) + '"}'

    response = api(alice).generic(
        "POST", "/api/v1/teams/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="big"
    )

    assert response.status_code == 413
