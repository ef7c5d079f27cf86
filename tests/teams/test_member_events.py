"""Membership changes are events for the team's members and the affected user; a role change
goes through `PATCH /teams/{id}/members/{user_id}/` (owner or admin only)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


def member_url(team: Team, user: User) -> str:
    return f"/api/v1/teams/{team.pk}/members/{user.pk}/"


def events(name: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(name=name).order_by("id"))


def test_adding_a_member_tells_the_team_and_the_newcomer(
    api: Api, alice: User, bob: User, carol: User, mallory: User, team: Team
) -> None:
    response = api(carol).post(
        f"/api/v1/teams/{team.pk}/members/", {"username": "mallory"}, format="json"
    )

    assert response.status_code == 201
    [event] = events("team.member_added")
    assert event.team_id == team.pk
    assert event.actor == {"id": carol.pk, "username": "carol"}
    assert sorted(event.recipients) == sorted([alice.pk, bob.pk, carol.pk, mallory.pk])
    assert event.data == {"member": response.json()}


def test_a_removal_tells_the_team_and_the_removed_member_then_only_the_team(
    api: Api, alice: User, bob: User, carol: User, team: Team
) -> None:
    assert api(carol).delete(member_url(team, bob)).status_code == 204
    task_create(team=team, actor=alice, title="After Bob")

    [removed] = events("team.member_removed")
    assert sorted(removed.recipients) == sorted([alice.pk, bob.pk, carol.pk])
    assert removed.data["member"]["user"] == {"id": bob.pk, "username": "bob"}
    assert removed.data["member"]["role"] == "member"
    [later] = events("task.created")
    assert sorted(later.recipients) == sorted([alice.pk, carol.pk])


def test_the_owner_and_admins_change_roles(
    api: Api, alice: User, bob: User, carol: User, team: Team
) -> None:
    promoted = api(carol).patch(member_url(team, bob), {"role": "admin"}, format="json")
    demoted = api(alice).patch(member_url(team, carol), {"role": "member"}, format="json")

    assert promoted.status_code == demoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    assert promoted.json()["user"] == {"id": bob.pk, "username": "bob"}
    assert Membership.objects.get(team=team, user=carol).role == Role.MEMBER
    changed = events("team.member_role_changed")
    assert [(e.data["member"]["user"]["id"], e.data["member"]["role"]) for e in changed] == [
        (bob.pk, "admin"),
        (carol.pk, "member"),
    ]
    assert [e.data["previous_role"] for e in changed] == ["member", "admin"]
    assert all(sorted(e.recipients) == sorted([alice.pk, bob.pk, carol.pk]) for e in changed)


def test_setting_the_same_role_changes_nothing(
    api: Api, alice: User, bob: User, team: Team
) -> None:
    response = api(alice).patch(member_url(team, bob), {"role": "member"}, format="json")
    assert response.status_code == 200
    assert events("team.member_role_changed") == []


def test_who_may_change_roles(
    api: Api, alice: User, bob: User, carol: User, mallory: User, team: Team
) -> None:
    # A plain member: 403 whatever the body; the owner's role: 403; outsiders: 404.
    assert (
        api(bob).patch(member_url(team, carol), {"role": "member"}, format="json").status_code
        == 403
    )
    assert api(bob).patch(member_url(team, carol), {}, format="json").status_code == 403
    assert (
        api(carol).patch(member_url(team, alice), {"role": "member"}, format="json").status_code
        == 403
    )
    assert (
        api(mallory).patch(member_url(team, bob), {"role": "admin"}, format="json").status_code
        == 404
    )
    assert (
        api(alice).patch(member_url(team, mallory), {"role": "admin"}, format="json").status_code
        == 404
    )
    assert Membership.objects.get(team=team, user=carol).role == Role.ADMIN
    assert events("team.member_role_changed") == []


@pytest.mark.parametrize("role", ["owner", "boss", "", None])
def test_a_bad_role_is_a_400_naming_role(
    api: Api, alice: User, bob: User, team: Team, role: object
) -> None:
    response = api(alice).patch(member_url(team, bob), {"role": role}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["role"]
