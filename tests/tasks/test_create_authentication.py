"""A task create checks its creator in the statement that writes the task, not in a read of its
own (accounts/authentication.py `TokenBearer`, tasks/clock.py): whoever may not act gets the
same 401 as from every other endpoint, and nothing is written: no task, no event, no clock tick.
A body with errors is answered 401 first, as ever; an assignee or a mention reads the user
the usual way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from taskflow_core.accounts.models import User
from taskflow_core.accounts.services import user_tokens_revoke
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks import apis
from taskflow_core.tasks.clock import CreatorMayNotAct
from taskflow_core.tasks.models import Task, TaskActivity, TaskWatcher, TeamTaskClock
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/tasks/"
ME = "/api/v1/users/me/"


def client_with(token: AccessToken) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def nothing_written(team: Team) -> bool:
    return not (
        Task.objects.filter(team=team).exists()
        or OutboxEvent.objects.filter(team_id=team.pk).exists()
        or TaskActivity.objects.exists()
        or TaskWatcher.objects.exists()
        or TeamTaskClock.objects.filter(team=team).exists()
    )


def deactivate(user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


def delete(user: User) -> None:
    User.objects.filter(pk=user.pk).delete()


def revoke(user: User) -> None:
    user_tokens_revoke(user=user)


def refusal(client: APIClient) -> tuple[int, Any, str]:
    """How another endpoint (one that reads the user first) refuses the same token."""
    response = client.get(ME)
    return response.status_code, response.json(), response["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [(deactivate, "User is inactive"), (revoke, "Token has been revoked.")],
)
def test_a_creator_who_may_not_act_is_401_and_nothing_is_written(
    alice: User, team: Team, change: Callable[[User], None], detail: str
) -> None:
    client = client_with(AccessToken.for_user(alice))
    change(alice)

    response = client.post(URL, {"team": team.pk, "title": "Too late"}, format="json")

    assert response.status_code == 401, response.content
    assert response.json() == {"detail": detail}
    assert (401, {"detail": detail}, response["WWW-Authenticate"]) == refusal(client)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert nothing_written(team)


def test_a_token_of_a_deleted_user_creates_nothing(
    make_user: Callable[..., User], alice: User, team: Team
) -> None:
    leaving = make_user("leaving")
    team.memberships.create(user=leaving, role="member")
    client = client_with(AccessToken.for_user(leaving))
    delete(leaving)

    response = client.post(URL, {"team": team.pk, "title": "Ghost"}, format="json")

    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "User not found"}
    assert nothing_written(team)


@pytest.mark.parametrize(
    "body",
    [
        {"title": "no team"},
        {"team": 1, "title": ""},
        {"team": 10**6, "title": "a team that is not theirs"},
        {"team": 1, "title": "read-only", "created_by": 1},
    ],
)
def test_a_creator_who_may_not_act_hears_401_before_what_is_wrong_with_the_body(
    alice: User, team: Team, body: dict[str, Any]
) -> None:
    client = client_with(AccessToken.for_user(alice))
    deactivate(alice)

    response = client.post(URL, body, format="json")

    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "User is inactive"}


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"assignee": "bob"}, id="assigned"),
        pytest.param({"description": "for @bob"}, id="mentioning"),
    ],
)
def test_a_create_that_assigns_or_mentions_checks_the_creator_as_well(
    alice: User, bob: User, team: Team, extra: dict[str, Any]
) -> None:
    body = {"team": team.pk, "title": "For Bob", **extra}
    if body.get("assignee") == "bob":
        body["assignee"] = bob.pk
    token = AccessToken.for_user(alice)

    created = client_with(token).post(URL, body, format="json")
    revoke(alice)
    refused = client_with(token).post(URL, body, format="json")

    assert created.status_code == 201, created.content
    assert refused.status_code == 401, refused.content
    assert refused.json() == {"detail": "Token has been revoked."}
    assert Task.objects.filter(team=team).count() == 1


def test_the_event_names_the_creator_as_the_statement_read_them(alice: User, team: Team) -> None:
    User.objects.filter(pk=alice.pk).update(username="alice2")  # after the token was issued
    client = client_with(AccessToken.for_user(alice))

    response = client.post(URL, {"team": team.pk, "title": "Mine"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["created_by"] == alice.pk
    event = OutboxEvent.objects.get(name="task.created")
    assert event.actor == {"id": alice.pk, "username": "alice2"}
    assert sorted(event.recipients) == sorted(team.memberships.values_list("user_id", flat=True))


def test_a_creator_refused_by_the_statement_who_may_act_again_creates_as_themself(
    alice: User, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statement and the 401's reading are two snapshots: someone reactivated between them
    gets their task, created once."""
    client = client_with(AccessToken.for_user(alice))
    deactivate(alice)

    def reactivated_after_the_statement(**kwargs: Any) -> Task:
        try:
            return task_create(**kwargs)
        except CreatorMayNotAct:
            User.objects.filter(pk=alice.pk).update(is_active=True)
            raise

    monkeypatch.setattr(apis, "task_create", reactivated_after_the_statement)

    response = client.post(URL, {"team": team.pk, "title": "Back"}, format="json")

    assert response.status_code == 201, response.content
    assert list(Task.objects.values_list("title", "created_by_id")) == [("Back", alice.pk)]
    assert OutboxEvent.objects.filter(name="task.created").count() == 1
