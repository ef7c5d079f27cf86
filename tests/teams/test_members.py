"""Team membership: who may list, add and remove members, and what everyone else gets."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


def members_url(team: Team) -> str:
    return f"/api/v1/teams/{team.pk}/members/"


def member_url(team: Team, user: User | int) -> str:
    user_id = user if isinstance(user, int) else user.pk
    return f"/api/v1/teams/{team.pk}/members/{user_id}/"


def roles(team: Team) -> dict[str, str]:
    return dict(team.memberships.values_list("user__username", "role"))


def test_members_are_listed_owner_first_then_admins_then_members(
    alice: User, bob: User, carol: User, make_user: Callable[..., User], team: Team, api: Api
) -> None:
    aaron = make_user("aaron")
    Membership.objects.create(team=team, user=aaron, role=Role.MEMBER)

    response = api(bob).get(members_url(team))

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (4, None, None)
    assert [(m["user"], m["role"]) for m in body["results"]] == [
        ({"id": alice.pk, "username": "alice"}, "owner"),
        ({"id": carol.pk, "username": "carol"}, "admin"),
        ({"id": aaron.pk, "username": "aaron"}, "member"),
        ({"id": bob.pk, "username": "bob"}, "member"),
    ]
    assert all(set(m) == {"user", "role", "joined_at"} for m in body["results"])


def test_the_owner_adds_a_member_by_username(
    alice: User, mallory: User, team: Team, api: Api
) -> None:
    response = api(alice).post(members_url(team), {"username": "mallory"}, format="json")

    assert response.status_code == 201
    membership = Membership.objects.get(team=team, user=mallory)
    assert response.json() == {
        "user": {"id": mallory.pk, "username": "mallory"},
        "role": "member",
        "joined_at": membership.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert api(mallory).get(f"/api/v1/teams/{team.pk}/").json()["role"] == "member"


def test_an_admin_adds_another_admin(carol: User, mallory: User, team: Team, api: Api) -> None:
    response = api(carol).post(
        members_url(team), {"username": "mallory", "role": "admin"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["role"] == "admin"
    assert roles(team)["mallory"] == "admin"


@pytest.mark.parametrize(
    "body", [{"username": "mallory"}, {"username": "nobody"}, {"role": "owner"}, {}]
)
def test_a_plain_member_may_not_add_anyone_whatever_the_body(
    bob: User, mallory: User, team: Team, api: Api, body: dict[str, str]
) -> None:
    response = api(bob).post(members_url(team), body, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only the team's owner or an admin can add members."}
    assert "mallory" not in roles(team)


def test_a_non_member_adding_gets_404(mallory: User, team: Team, api: Api) -> None:
    response = api(mallory).post(members_url(team), {"username": "mallory"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "mallory" not in roles(team)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"username": "nobody"}, {"username": ["No user with this username."]}),
        ({"username": "bob"}, {"username": ["This user is already a member of the team."]}),
        ({"username": "alice"}, {"username": ["This user is already a member of the team."]}),
        ({"username": "mallory", "role": "owner"}, {"role": ['"owner" is not a valid choice.']}),
        ({"username": "mallory", "role": "boss"}, {"role": ['"boss" is not a valid choice.']}),
        ({"username": "mallory", "role": None}, {"role": ["This field may not be null."]}),
        ({}, {"username": ["This field is required."]}),
        ({"username": ""}, {"username": ["This field may not be blank."]}),
        ({"username": {"a": 1}}, {"username": ["Not a valid string."]}),
    ],
)
def test_bad_additions_are_400_naming_the_field(
    alice: User,
    bob: User,
    mallory: User,
    team: Team,
    api: Api,
    body: dict[str, object],
    errors: dict[str, list[str]],
) -> None:
    before = roles(team)

    response = api(alice).post(members_url(team), body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert roles(team) == before


def test_adding_with_malformed_json_is_a_parse_error(alice: User, team: Team, api: Api) -> None:
    response = api(alice).post(members_url(team), data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_the_same_user_at_once_add_them_once(
    alice: User, carol: User, mallory: User, team: Team, api: Api
) -> None:
    clients = [api(alice), api(carol)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def add(client: APIClient) -> None:
        try:
            barrier.wait(timeout=30)
            response = client.post(members_url(team), {"username": "mallory"}, format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201, 400]
    assert Membership.objects.filter(team=team, user=mallory).count() == 1


def test_an_admin_removes_a_member_who_then_loses_the_team(
    bob: User, carol: User, team: Team, api: Api
) -> None:
    response = api(carol).delete(member_url(team, bob))

    assert response.status_code == 204
    assert "bob" not in roles(team)
    assert api(bob).get(f"/api/v1/teams/{team.pk}/").status_code == 404
    assert api(bob).get(members_url(team)).status_code == 404
    assert api(bob).get("/api/v1/teams/").json()["count"] == 0


def test_the_owner_removes_an_admin(alice: User, carol: User, team: Team, api: Api) -> None:
    assert api(alice).delete(member_url(team, carol)).status_code == 204
    assert "carol" not in roles(team)


def test_a_member_may_leave(bob: User, team: Team, api: Api) -> None:
    assert api(bob).delete(member_url(team, bob)).status_code == 204
    assert "bob" not in roles(team)


def test_a_member_may_not_remove_another(bob: User, carol: User, team: Team, api: Api) -> None:
    response = api(bob).delete(member_url(team, carol))

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the team's owner or an admin can remove other members."
    }
    assert "carol" in roles(team)


def test_nobody_removes_the_owner(alice: User, carol: User, team: Team, api: Api) -> None:
    response = api(carol).delete(member_url(team, alice))

    assert response.status_code == 403
    assert response.json() == {"detail": "The team's owner cannot be removed."}
    assert roles(team)["alice"] == "owner"


def test_the_owner_cannot_leave(alice: User, team: Team, api: Api) -> None:
    response = api(alice).delete(member_url(team, alice))

    assert response.status_code == 403
    assert response.json() == {"detail": "The owner cannot leave the team they own."}
    assert roles(team)["alice"] == "owner"


def test_a_non_member_removing_anyone_gets_404(
    bob: User, mallory: User, team: Team, api: Api
) -> None:
    assert api(mallory).delete(member_url(team, bob)).status_code == 404
    assert api(mallory).delete(member_url(team, mallory)).status_code == 404
    assert "bob" in roles(team)


@pytest.mark.parametrize("user_id", [0, 10**6, 10**30])
def test_removing_someone_not_in_the_team_is_404(
    alice: User, team: Team, api: Api, user_id: int
) -> None:
    response = api(alice).delete(member_url(team, user_id))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_removing_a_member_unassigns_their_tasks_in_that_team(
    alice: User, bob: User, team: Team, api: Api
) -> None:
    task = task_create(team=team, actor=alice, title="Ship it", assignee=bob)

    assert api(alice).delete(member_url(team, bob)).status_code == 204

    task.refresh_from_db()
    assert task.assignee is None


def test_a_member_leaving_gives_up_their_tasks_in_that_team(
    alice: User, bob: User, team: Team, api: Api
) -> None:
    task = task_create(team=team, actor=alice, title="Ship it", assignee=bob)

    assert api(bob).delete(member_url(team, bob)).status_code == 204

    task.refresh_from_db()
    assert task.assignee is None
    assert "bob" not in roles(team)
