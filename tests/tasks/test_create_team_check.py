"""A create's team is checked by the statement that writes the task (tasks/clock.py); a 400
still names `team` exactly where it did when validation read the team's members."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Membership, Role, Team
from tests.tasks.conftest import add_form

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]
URL = "/api/v1/tasks/"
NOT_YOURS = ["You are not a member of a team with this id."]


@pytest.fixture
def theirs(make_user: Callable[..., User]) -> Team:
    """A team of two people, neither of them alice's teammate."""
    team = Team.objects.create(name="Theirs")
    Membership.objects.create(team=team, user=make_user("owner"), role=Role.OWNER)
    Membership.objects.create(team=team, user=make_user("member"), role=Role.MEMBER)
    return team


def test_someone_elses_team_alone_is_400_naming_team(api: Api, alice: User, theirs: Team) -> None:
    response = api(alice).post(URL, {"team": theirs.pk, "title": "Mine now"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"team": NOT_YOURS}
    assert not Task.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_someone_elses_team_is_named_next_to_the_other_fields(
    api: Api, alice: User, theirs: Team
) -> None:
    body = {"team": theirs.pk, "title": "", "priority": "someday"}

    response = api(alice).post(URL, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert sorted(errors) == ["priority", "team", "title"]
    assert errors["team"] == NOT_YOURS


def test_your_own_team_is_not_named_next_to_the_other_fields(
    api: Api, alice: User, team: Team
) -> None:
    response = api(alice).post(URL, {"team": team.pk, "title": ""}, format="json")

    assert response.status_code == 400
    assert sorted(response.json()) == ["title"]


def test_someone_elses_team_hides_the_unknown_fields_as_it_did(
    api: Api, alice: User, theirs: Team
) -> None:
    body = {"team": theirs.pk, "title": "x", "version": 3, "colour": "red"}

    response = api(alice).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"team": NOT_YOURS}


def test_unknown_fields_in_your_own_team_are_named(api: Api, alice: User, team: Team) -> None:
    body = {"team": team.pk, "title": "x", "colour": "red"}

    response = api(alice).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"colour": ["Unknown field."]}


def test_an_assignee_in_someone_elses_team_tells_nothing_about_its_members(
    api: Api, alice: User, theirs: Team
) -> None:
    member = theirs.memberships.get(role=Role.MEMBER).user
    client = api(alice)

    for assignee in (member.pk, alice.pk):  # in that team, and not
        body = {"team": theirs.pk, "title": "x", "assignee": assignee}
        response = client.post(URL, body, format="json")
        assert response.status_code == 400
        assert response.json() == {"team": NOT_YOURS}
    assert not Task.objects.exists()


def test_a_body_that_is_no_object_is_400_without_naming_team(api: Api, alice: User) -> None:
    response = api(alice).post(URL, ["team", "title"], format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_staff_outside_the_team_create_in_the_admin(
    admin_client: Client, admin_user: User, theirs: Team
) -> None:
    response = admin_client.post("/admin/tasks/task/add/", add_form(theirs, "Set up by staff"))

    assert response.status_code == 302
    task = Task.objects.get(title="Set up by staff")
    assert task.created_by == admin_user
    event = OutboxEvent.objects.get(name="task.created")
    assert sorted(event.recipients) == sorted(theirs.memberships.values_list("user", flat=True))
