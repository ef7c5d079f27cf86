"""Creating, listing and reading teams: a team you are not in does not exist for you."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Role, Team
from taskflow_core.teams.services import team_create

TEAMS = "/api/v1/teams/"

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


def test_creating_a_team_makes_me_its_owner(alice: User, api: Api) -> None:
    response = api(alice).post(TEAMS, {"name": "  Design  "}, format="json")

    assert response.status_code == 201
    body = response.json()
    team = Team.objects.get(pk=body["id"])
    assert body == {
        "id": team.pk,
        "name": "Design",
        "role": "owner",
        "created_at": team.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert list(team.memberships.values_list("user__username", "role")) == [("alice", "owner")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"name": ""}, "This field may not be blank."),
        ({"name": "   "}, "This field may not be blank."),
        ({"name": None}, "This field may not be null."),
        ({"name": "x" * 201}, "Ensure this field has no more than 200 characters."),
        ({"name": ["a"]}, "Not a valid string."),
    ],
)
def test_a_team_needs_a_sensible_name(
    alice: User, api: Api, body: dict[str, object], message: str
) -> None:
    response = api(alice).post(TEAMS, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": [message]}
    assert not Team.objects.exists()


def test_malformed_json_is_a_parse_error(alice: User, api: Api) -> None:
    response = api(alice).post(TEAMS, data='{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_the_list_holds_only_my_teams_with_my_role(
    alice: User, bob: User, mallory: User, team: Team, api: Api
) -> None:
    team_create(name="Secret plans", creator=mallory)
    backend = team_create(name="Backend", creator=bob)
    Membership.objects.create(team=backend, user=alice, role=Role.ADMIN)

    response = api(alice).get(TEAMS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert [(t["id"], t["name"], t["role"]) for t in body["results"]] == [
        (backend.pk, "Backend", "admin"),
        (team.pk, "Platform", "owner"),
    ]


def test_the_list_is_paginated(alice: User, api: Api) -> None:
    for name in ("A", "B", "C"):
        team_create(name=name, creator=alice)

    first = api(alice).get(TEAMS, {"page_size": 2}).json()
    second = api(alice).get(first["next"]).json()

    assert first["count"] == 3
    assert [t["name"] for t in first["results"]] == ["A", "B"]
    assert [t["name"] for t in second["results"]] == ["C"]
    assert second["next"] is None
    assert second["previous"] is not None


def test_a_page_past_the_end_is_404(alice: User, api: Api) -> None:
    response = api(alice).get(TEAMS, {"page": 9})
    assert response.status_code == 404


def test_someone_in_no_team_gets_an_empty_list(mallory: User, team: Team, api: Api) -> None:
    response = api(mallory).get(TEAMS)
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_member_reads_the_team_with_their_role(bob: User, team: Team, api: Api) -> None:
    response = api(bob).get(f"{TEAMS}{team.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": team.pk,
        "name": "Platform",
        "role": "member",
        "created_at": team.created_at.isoformat().replace("+00:00", "Z"),
    }


@pytest.mark.parametrize("suffix", ["", "members/"])
def test_a_team_i_am_not_in_is_404_like_one_that_does_not_exist(
    mallory: User, team: Team, api: Api, suffix: str
) -> None:
    not_mine = api(mallory).get(f"{TEAMS}{team.pk}/{suffix}")
    missing = api(mallory).get(f"{TEAMS}{team.pk + 1000}/{suffix}")

    assert not_mine.status_code == 404
    assert missing.status_code == 404
    assert not_mine.json() == missing.json() == {"detail": "Not found."}


def test_an_out_of_range_team_id_is_404(alice: User, api: Api) -> None:
    response = api(alice).get(f"{TEAMS}{10**30}/")
    assert response.status_code == 404
