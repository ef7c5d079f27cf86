"""What each task endpoint costs in SQL, so that a regression fails here, not in a benchmark
months later (bench/NOTES.md, "P2"). Counted on the whole request path with real commits:
statements sent to PostgreSQL, not counting the transaction's own BEGIN and COMMIT."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task, TeamTaskClock
from taskflow_core.teams.models import Team
from taskflow_core.teams.services import team_create

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/tasks/"
Api = Callable[[User | None], APIClient]
MakeTask = Callable[..., Task]
MakeUser = Callable[..., User]
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


class Cost:
    def __init__(self, captured: CaptureQueriesContext) -> None:
        self.captured = captured

    @property
    def sql(self) -> list[str]:
        return [query["sql"] for query in self.captured.captured_queries]

    @property
    def statements(self) -> list[str]:
        return [sql for sql in self.sql if not sql.startswith(TRANSACTION_CONTROL)]

    @property
    def commits(self) -> int:
        return sum(1 for sql in self.sql if sql == "COMMIT")

    def __repr__(self) -> str:
        return "\n".join(self.sql)


@contextmanager
def cost() -> Iterator[Cost]:
    with CaptureQueriesContext(connection) as captured:
        yield Cost(captured)


def test_create_is_one_statement_and_no_transaction_of_its_own(
    api: Api, alice: User, team: Team
) -> None:
    client = api(alice)
    client.post(URL, {"team": team.pk, "title": "warm-up"}, format="json")

    with cost() as create:
        response = client.post(URL, {"team": team.pk, "title": "Ship it"}, format="json")

    assert response.status_code == 201
    # One statement that reads the creator (may the token's user act?) and the team's members
    # (is the team alice's, who hears of the task) and writes the task, its event, activity,
    # watchers and the team's clock: atomic by itself, so no BEGIN and no COMMIT.
    assert len(create.statements) == 1, create
    assert create.sql == create.statements, create
    assert create.statements[0].startswith("WITH members AS (SELECT"), create


def test_the_creates_statement_is_prepared_once_per_connection(
    api: Api, alice: User, team: Team
) -> None:
    client = api(alice)
    for title in ("one", "two", "three"):
        response = client.post(URL, {"team": team.pk, "title": title}, format="json")
        assert response.status_code == 201

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE NOT from_sql"
        )
        prepared = [(sql, runs) for sql, runs in cursor.fetchall() if "INSERT INTO" in sql]
    # Parsed once, run three times (commonly the same plan): not parsed and planned per create.
    assert len(prepared) == 1, prepared
    assert prepared[0][0].startswith("WITH members AS (SELECT"), prepared
    assert prepared[0][1] == 3, prepared


def test_a_create_in_someone_elses_team_writes_nothing(
    api: Api, alice: User, make_user: MakeUser
) -> None:
    stranger = make_user("stranger")
    theirs = team_create(name="Theirs", creator=stranger)
    client = api(alice)

    with cost() as create:
        response = client.post(URL, {"team": theirs.pk, "title": "Sneaky"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"team": ["You are not a member of a team with this id."]}
    assert len(create.statements) == 1, create  # the statement, which wrote nothing
    assert not Task.objects.filter(team=theirs).exists()
    assert not OutboxEvent.objects.filter(team_id=theirs.pk).exists()
    assert not TeamTaskClock.objects.filter(team=theirs).exists()


def test_assigned_create(api: Api, alice: User, bob: User, team: Team) -> None:
    client = api(alice)

    with cost() as create:
        response = client.post(
            URL, {"team": team.pk, "title": "Yours", "assignee": bob.pk}, format="json"
        )

    assert response.status_code == 201
    # Besides the create's own two: the team's members (alice must be one before the assignee
    # is looked at), the assignee, read in the statement that holds their membership (FOR KEY
    # SHARE) until the commit (validating the body reads nothing), and the notification's row
    # and event (its recipient is that assignee, not read again). The events' published_at
    # marks are not on the request path (the relay records them in batches, docs/events.md).
    assert len(create.statements) == 6, create
    assert sum("FOR KEY SHARE" in statement for statement in create.statements) == 1, create
    assert create.commits == 1, create


def test_assignment_by_update(api: Api, alice: User, bob: User, task: Task) -> None:
    client = api(alice)
    with cost() as update:
        response = client.patch(f"{URL}{task.pk}/", {"assignee": bob.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["assignee"] == bob.pk
    # The update's eight (see below), the task's team, the assignee read with their membership
    # held (validating the body reads nothing), the new watcher, the notification's row and event.
    assert len(update.statements) == 13, update
    assert sum("FOR KEY SHARE" in statement for statement in update.statements) == 1, update
    assert update.commits == 1, update


def test_update(api: Api, alice: User, task: Task) -> None:
    client = api(alice)
    with cost() as update:
        response = client.patch(f"{URL}{task.pk}/", {"title": "Renamed"}, format="json")

    assert response.status_code == 200
    # The user, the visible task, the task locked, its UPDATE, the activity, the members, the
    # event, the team's clock (no published_at mark: the relay records it, docs/events.md).
    assert len(update.statements) == 8, update
    assert update.commits == 1, update


@pytest.mark.parametrize("page_size", [1, 50, 200])
def test_list_costs_the_same_whatever_the_page(
    api: Api, alice: User, make_task: MakeTask, page_size: int
) -> None:
    for number in range(60):
        make_task(title=f"t{number}")

    client = api(alice)
    with cost() as listing:
        response = client.get(URL, {"page_size": page_size})

    assert response.status_code == 200
    # The user, the team clocks (the ETag), the count, the page.
    assert len(listing.statements) == 4, listing
    assert listing.commits == 0


def test_detail(api: Api, bob: User, task: Task) -> None:
    client = api(bob)
    with cost() as detail:
        response = client.get(f"{URL}{task.pk}/")

    assert response.status_code == 200
    assert len(detail.statements) == 2, detail  # the user, the task
    assert detail.commits == 0


@pytest.mark.parametrize("team_value", [True, "abc", None, 2**64])
def test_a_team_that_is_no_id_is_400_naming_team_without_a_query(
    api: Api, alice: User, team_value: object
) -> None:
    client = api(alice)
    with cost() as create:
        response = client.post(URL, {"team": team_value, "title": "x"}, format="json")

    assert response.status_code == 400
    assert "team" in response.json()
    assert len(create.statements) == 1, create  # the user only
