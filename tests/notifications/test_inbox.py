"""The notification inbox: `/api/v1/notifications/...`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import Notification, NotificationType
from taskflow_core.notifications.services import notification_create
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team

URL = "/api/v1/notifications/"
Api = Callable[[User | None], APIClient]


@pytest.fixture
def task(team: Team, alice: User) -> Task:
    return task_create(team=team, actor=alice, title="Ship it")


@pytest.fixture
def notify(task: Task, alice: User) -> Callable[..., Notification]:
    def make(recipient: User, message: str = "hello", **extra: object) -> Notification:
        return notification_create(
            recipient=recipient,
            type=extra.get("type", NotificationType.TASK_ASSIGNED),  # type: ignore[arg-type]
            task_id=task.pk,
            team_id=task.team_id,
            actor=alice,
            message=message,
        )

    return make


def messages(client: APIClient, **params: str) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.json()
    return [n["message"] for n in response.json()["results"]]


def test_list_shows_my_notifications_newest_first(
    api: Api, alice: User, bob: User, mallory: User, task: Task, notify: Callable[..., Notification]
) -> None:
    first = notify(bob, "first")
    notify(bob, "second")
    notify(mallory, "not bob's")

    response = api(bob).get(URL)

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    assert [n["message"] for n in page["results"]] == ["second", "first"]
    oldest = page["results"][1]
    assert oldest == {
        "id": first.pk,
        "type": "task_assigned",
        "task": task.pk,
        "actor": {"id": alice.pk, "username": "alice"},
        "message": "first",
        "created_at": oldest["created_at"],
        "read_at": None,
    }


def test_actor_and_task_may_be_null(api: Api, bob: User) -> None:
    notification_create(
        recipient=bob,
        type=NotificationType.TASK_OVERDUE,
        task_id=None,
        team_id=None,
        actor=None,
        message="late",
    )

    result = api(bob).get(URL).json()["results"][0]

    assert result["actor"] is None
    assert result["task"] is None


def test_unread_filter(api: Api, bob: User, notify: Callable[..., Notification]) -> None:
    read = notify(bob, "read")
    notify(bob, "unread")
    api(bob).post(f"{URL}{read.pk}/read/")

    assert messages(api(bob), unread="true") == ["unread"]
    assert messages(api(bob), unread="false") == ["read"]
    assert messages(api(bob)) == ["unread", "read"]


def test_invalid_unread_value_is_400(api: Api, bob: User) -> None:
    response = api(bob).get(URL, {"unread": "maybe"})

    assert response.status_code == 400
    assert list(response.json()) == ["unread"]


def test_unread_count(
    api: Api, bob: User, mallory: User, notify: Callable[..., Notification]
) -> None:
    notify(bob)
    notify(bob)
    notify(mallory)

    response = api(bob).get(f"{URL}unread-count/")

    assert response.status_code == 200
    assert response.json() == {"count": 2}


def test_read_one(api: Api, bob: User, notify: Callable[..., Notification]) -> None:
    target = notify(bob, "target")
    notify(bob, "other")

    response = api(bob).post(f"{URL}{target.pk}/read/")

    assert response.status_code == 200
    assert response.json()["id"] == target.pk
    assert response.json()["read_at"] is not None
    assert api(bob).get(f"{URL}unread-count/").json() == {"count": 1}
    again = api(bob).post(f"{URL}{target.pk}/read/")
    assert again.status_code == 200
    assert again.json()["read_at"] == response.json()["read_at"]


def test_reading_someone_elses_notification_is_404(
    api: Api, bob: User, mallory: User, notify: Callable[..., Notification]
) -> None:
    bobs = notify(bob)

    assert api(mallory).post(f"{URL}{bobs.pk}/read/").status_code == 404
    assert api(bob).post(f"{URL}{bobs.pk + 1000}/read/").status_code == 404
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_read_all_marks_only_mine(
    api: Api, bob: User, mallory: User, notify: Callable[..., Notification]
) -> None:
    notify(bob)
    notify(bob)
    notify(mallory)

    response = api(bob).post(f"{URL}read-all/")

    assert response.status_code == 200
    assert response.json() == {"marked_read": 2}
    assert api(bob).get(f"{URL}unread-count/").json() == {"count": 0}
    assert api(mallory).get(f"{URL}unread-count/").json() == {"count": 1}
    assert api(bob).post(f"{URL}read-all/").json() == {"marked_read": 0}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("get", "unread-count/"), ("post", "1/read/"), ("post", "read-all/")],
)
def test_every_endpoint_requires_authentication(api: Api, method: str, path: str) -> None:
    assert getattr(api(None), method)(f"{URL}{path}").status_code == 401


def test_list_query_count_does_not_grow_with_page_size(
    api: Api,
    bob: User,
    notify: Callable[..., Notification],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for number in range(30):
        notify(bob, f"n{number}")
    client = api(bob)

    with CaptureQueriesContext(connection) as one_per_page:
        assert len(client.get(URL, {"page_size": 1}).json()["results"]) == 1
    assert len(one_per_page) <= 4

    with django_assert_num_queries(len(one_per_page)):
        assert len(client.get(URL, {"page_size": 30}).json()["results"]) == 30
