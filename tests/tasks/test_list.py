"""`GET /api/v1/tasks/`: visibility, every filter, ordering, pagination and its query count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Membership, Role, Team

URL = "/api/v1/tasks/"
Api = Callable[[User | None], APIClient]
MakeTask = Callable[..., Task]


def titles(api: APIClient, **params: Any) -> list[str]:
    response = api.get(URL, params)
    assert response.status_code == 200, response.json()
    return [task["title"] for task in response.json()["results"]]


@pytest.fixture
def other_team(mallory: User) -> Team:
    team = Team.objects.create(name="Mallory's")
    Membership.objects.create(team=team, user=mallory, role=Role.OWNER)
    return team


def test_lists_only_tasks_of_my_teams(
    api: Api, bob: User, mallory: User, other_team: Team, make_task: MakeTask
) -> None:
    make_task(title="ours")
    make_task(title="theirs", team=other_team, actor=mallory)

    assert titles(api(bob)) == ["ours"]
    assert titles(api(mallory)) == ["theirs"]


def test_page_shape(api: Api, alice: User, make_task: MakeTask) -> None:
    for number in range(3):
        make_task(title=f"t{number}")

    response = api(alice).get(URL, {"page_size": 2})

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 3
    assert page["previous"] is None
    assert page["next"].endswith("page=2&page_size=2")
    assert [task["title"] for task in page["results"]] == ["t2", "t1"]  # newest first
    second = api(alice).get(URL, {"page_size": 2, "page": 2}).json()
    assert [task["title"] for task in second["results"]] == ["t0"]
    assert second["next"] is None


def test_page_out_of_range_is_404(api: Api, alice: User, make_task: MakeTask) -> None:
    make_task()

    assert api(alice).get(URL, {"page": 2}).status_code == 404


def test_requires_authentication(api: Api) -> None:
    assert api(None).get(URL).status_code == 401


def test_filter_team(
    api: Api, alice: User, make_task: MakeTask, make_user: Callable[..., User]
) -> None:
    second = Team.objects.create(name="Second")
    Membership.objects.create(team=second, user=alice, role=Role.OWNER)
    make_task(title="first team")
    make_task(title="second team", team=second)

    assert titles(api(alice), team=second.pk) == ["second team"]


def test_filter_status(api: Api, alice: User, make_task: MakeTask) -> None:
    make_task(title="open")
    make_task(title="blocked", status="blocked")

    assert titles(api(alice), status="blocked") == ["blocked"]


def test_filter_assignee_by_id_me_and_none(
    api: Api, alice: User, bob: User, carol: User, make_task: MakeTask
) -> None:
    make_task(title="bob's", assignee=bob)
    make_task(title="carol's", assignee=carol)
    make_task(title="nobody's")

    assert titles(api(alice), assignee=carol.pk) == ["carol's"]
    assert titles(api(bob), assignee="me") == ["bob's"]
    assert titles(api(alice), assignee="none") == ["nobody's"]


def test_filter_priority(api: Api, alice: User, make_task: MakeTask) -> None:
    make_task(title="calm", priority="low")
    make_task(title="fire", priority="urgent")

    assert titles(api(alice), priority="urgent") == ["fire"]


def test_filter_due_before_and_after(api: Api, alice: User, make_task: MakeTask) -> None:
    now = timezone.now()
    make_task(title="soon", due_at=now + timedelta(days=1))
    make_task(title="later", due_at=now + timedelta(days=10))
    make_task(title="no deadline")
    middle = (now + timedelta(days=5)).isoformat()

    assert titles(api(alice), due_before=middle) == ["soon"]
    assert titles(api(alice), due_after=middle) == ["later"]
    assert titles(api(alice), due_after=now.isoformat(), due_before=middle) == ["soon"]


def test_filter_overdue(api: Api, alice: User, make_task: MakeTask) -> None:
    past = timezone.now() - timedelta(hours=1)
    make_task(title="late", due_at=past)
    make_task(title="late but done", due_at=past, status="done")
    make_task(title="late but cancelled", due_at=past, status="cancelled")
    make_task(title="in time", due_at=timezone.now() + timedelta(hours=1))
    make_task(title="no deadline")

    assert titles(api(alice), overdue="true") == ["late"]
    assert sorted(titles(api(alice), overdue="false")) == [
        "in time",
        "late but cancelled",
        "late but done",
        "no deadline",
    ]


def test_search_title_and_description_case_insensitively(
    api: Api, alice: User, make_task: MakeTask
) -> None:
    make_task(title="Fix the LOGIN page")
    make_task(title="Other", description="users cannot log in: login broken")
    make_task(title="Unrelated", description="nothing here")

    assert sorted(titles(api(alice), search="login")) == ["Fix the LOGIN page", "Other"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("team", "abc"),
        ("team", "1.5"),
        ("status", "finished"),
        ("assignee", "someone"),
        ("priority", "critical"),
        ("due_before", "tomorrow"),
        ("due_after", "2031-13-01"),
        ("overdue", "maybe"),
        ("ordering", "title"),
        ("ordering", "due_at,-colour"),
    ],
)
def test_invalid_filter_is_400_naming_it(
    api: Api, alice: User, make_task: MakeTask, param: str, value: str
) -> None:
    make_task()

    response = api(alice).get(URL, {param: value})

    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_team_filter_of_someone_elses_team_is_empty(
    api: Api, mallory: User, other_team: Team, alice: User, make_task: MakeTask
) -> None:
    make_task(title="mallory's", team=other_team, actor=mallory)

    assert titles(api(alice), team=other_team.pk) == []


def test_ordering_by_priority_uses_rank_not_alphabet(
    api: Api, alice: User, make_task: MakeTask
) -> None:
    for priority in ("medium", "urgent", "low", "high"):
        make_task(title=priority, priority=priority)

    assert titles(api(alice), ordering="priority") == ["low", "medium", "high", "urgent"]
    assert titles(api(alice), ordering="-priority") == ["urgent", "high", "medium", "low"]


def test_ordering_by_due_at_puts_tasks_without_deadline_last(
    api: Api, alice: User, make_task: MakeTask
) -> None:
    now = timezone.now()
    make_task(title="day 3", due_at=now + timedelta(days=3))
    make_task(title="none")
    make_task(title="day 1", due_at=now + timedelta(days=1))
    make_task(title="day 2", due_at=now + timedelta(days=2))

    assert titles(api(alice), ordering="due_at") == ["day 1", "day 2", "day 3", "none"]
    assert titles(api(alice), ordering="-due_at") == ["day 3", "day 2", "day 1", "none"]


def test_ordering_by_created_at(api: Api, alice: User, make_task: MakeTask) -> None:
    for title in ("first", "second", "third"):
        make_task(title=title)

    assert titles(api(alice), ordering="created_at") == ["first", "second", "third"]
    assert titles(api(alice), ordering="-created_at") == ["third", "second", "first"]


def test_ordering_by_updated_at(api: Api, alice: User, make_task: MakeTask) -> None:
    first = make_task(title="first")
    make_task(title="second")
    make_task(title="third")
    response = api(alice).patch(f"{URL}{first.pk}/", {"priority": "high"}, format="json")
    assert response.status_code == 200

    assert titles(api(alice), ordering="updated_at") == ["second", "third", "first"]
    assert titles(api(alice), ordering="-updated_at") == ["first", "third", "second"]


def test_several_ordering_keys(api: Api, alice: User, make_task: MakeTask) -> None:
    make_task(title="low old", priority="low")
    make_task(title="high old", priority="high")
    make_task(title="low new", priority="low")

    assert titles(api(alice), ordering="-priority,-created_at") == [
        "high old",
        "low new",
        "low old",
    ]


def test_list_query_count_does_not_grow_with_page_size(
    api: Api,
    alice: User,
    bob: User,
    make_task: MakeTask,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for number in range(50):
        make_task(title=f"t{number}", assignee=bob if number % 2 else None)
    client = api(alice)

    with CaptureQueriesContext(connection) as one_task_page:
        response = client.get(URL, {"page_size": "1", "ordering": "-priority"})
    assert len(response.json()["results"]) == 1
    # Authentication, the count and the page itself: nothing per task.
    assert len(one_task_page) <= 4

    with django_assert_num_queries(len(one_task_page)):
        response = client.get(URL, {"page_size": "50", "ordering": "-priority"})
    assert len(response.json()["results"]) == 50
