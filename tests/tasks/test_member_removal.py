"""Removing a member unassigns their tasks in bulk, one transaction, with an event per task;
and an assignment racing the removal never leaves a non-member assigned."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest
from django.db import connection
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task, TaskActivity
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team

Api = Callable[[User | None], APIClient]


def member_url(team: Team, user: User) -> str:
    return f"/api/v1/teams/{team.pk}/members/{user.pk}/"


@pytest.mark.django_db
def test_removal_unassigns_every_task_with_activity_and_an_event_each(
    api: Api, alice: User, bob: User, carol: User, team: Team
) -> None:
    mine = [task_create(team=team, actor=alice, title=f"T{i}", assignee=bob) for i in range(5)]
    other = task_create(team=team, actor=alice, title="Carol's", assignee=carol)
    OutboxEvent.objects.all().delete()

    assert api(alice).delete(member_url(team, bob)).status_code == 204

    for task in mine:
        task.refresh_from_db()
        assert (task.assignee_id, task.version) == (None, 2)
        activity = task.activity.get(verb="updated")
        assert (activity.actor, activity.changes) == (alice, {"assignee": [bob.pk, None]})
    other.refresh_from_db()
    assert other.assignee == carol
    events = list(OutboxEvent.objects.exclude(name="team.member_removed").order_by("id"))
    assert [event.name for event in events] == ["task.updated"] * 5
    assert sorted(event.data["task"]["id"] for event in events) == sorted(t.pk for t in mine)
    for event in events:
        assert event.data["task"]["assignee"] is None
        assert event.data["task"]["version"] == 2
        assert event.data["changes"] == {"assignee": [bob.pk, None]}
        # The removed member is no longer a recipient of the team's events.
        assert sorted(event.recipients) == sorted([alice.pk, carol.pk])


@pytest.mark.django_db
def test_removing_a_member_with_2000_tasks_is_a_handful_of_queries(
    api: Api,
    alice: User,
    bob: User,
    team: Team,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    Task.objects.bulk_create(
        [Task(team=team, title=f"T{i}", assignee=bob, created_by=alice) for i in range(2000)]
    )

    with django_assert_max_num_queries(40):
        assert api(alice).delete(member_url(team, bob)).status_code == 204

    assert not Task.objects.filter(assignee=bob).exists()
    assert TaskActivity.objects.filter(verb="updated").count() == 2000
    assert OutboxEvent.objects.filter(name="task.updated").count() == 2000


ROUNDS = 40


def assign(client: APIClient, task: Task, member: User) -> int:
    url = f"/api/v1/tasks/{task.pk}/"
    return client.patch(url, {"assignee": member.pk}, format="json").status_code


def remove(client: APIClient, team: Team, member: User) -> int:
    return client.delete(member_url(team, member)).status_code


def run_at_once(*calls: Callable[[], int]) -> list[int]:
    barrier = threading.Barrier(len(calls), timeout=60)
    results: list[int] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], int]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_an_assignment_racing_the_assignees_removal_never_leaves_a_non_member_assigned(
    api: Api, alice: User, make_user: Callable[..., User], team: Team
) -> None:
    owner = api(alice)
    violations: list[int] = []
    for round_number in range(ROUNDS):
        member = make_user(f"racer{round_number}")
        Membership.objects.create(team=team, user=member, role=Role.MEMBER)
        task = task_create(team=team, actor=alice, title=f"Race {round_number}")

        statuses = run_at_once(
            partial(assign, owner, task, member), partial(remove, owner, team, member)
        )

        assert sorted(statuses) in ([200, 204], [204, 400]), statuses
        task.refresh_from_db()
        if (
            task.assignee_id is not None
            and not Membership.objects.filter(team=team, user_id=task.assignee_id).exists()
        ):
            violations.append(round_number)
    assert violations == []
