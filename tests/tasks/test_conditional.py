"""`If-None-Match` on the task list and a task: 304 while nothing changed, 200 otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task, TeamTaskClock
from taskflow_core.tasks.services import task_delete, task_team_member_remove, task_update
from taskflow_core.teams.models import Membership, Role, Team

URL = "/api/v1/tasks/"
Api = Callable[[User | None], APIClient]
MakeTask = Callable[..., Task]


def etag_of(client: APIClient, path: str = URL, **params: str) -> str:
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    tag: str = response["ETag"]
    return tag


def conditional(client: APIClient, tag: str, path: str = URL, **params: str) -> int:
    response = client.get(path, params, headers={"If-None-Match": tag})
    if response.status_code == 304:
        assert response.content == b""
        assert response["ETag"] == tag
    return int(response.status_code)


def task_queries(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if 'tasks_task"' in query["sql"]]


# --- the list -------------------------------------------------------------------------------


def test_unchanged_list_is_304_without_reading_a_task(
    api: Api, alice: User, make_task: MakeTask
) -> None:
    make_task(title="one")
    client = api(alice)
    tag = etag_of(client)

    with CaptureQueriesContext(connection) as captured:
        assert conditional(client, tag) == 304
    assert task_queries(captured) == []
    # The user (authentication) and the team clocks: nothing else.
    assert len(captured) == 2


@pytest.mark.parametrize("form", ["weak", "among others", "star"])
def test_if_none_match_forms(api: Api, alice: User, make_task: MakeTask, form: str) -> None:
    make_task()
    client = api(alice)
    tag = etag_of(client)
    header = {"weak": f"W/{tag}", "among others": f'"other", {tag}', "star": "*"}[form]

    assert client.get(URL, headers={"If-None-Match": header}).status_code == 304


def test_every_change_to_the_teams_tasks_changes_the_tag(
    api: Api, alice: User, bob: User, make_task: MakeTask
) -> None:
    task = make_task(title="first")
    client = api(bob)
    tags = [etag_of(client)]

    make_task(title="second")
    tags.append(etag_of(client))
    assert conditional(client, tags[0]) == 200

    task_update(task_id=task.pk, actor=alice, data={"title": "first, renamed"})
    tags.append(etag_of(client))
    assert conditional(client, tags[1]) == 200

    api(alice).patch(f"{URL}{task.pk}/", {"status": "done"}, format="json")
    tags.append(etag_of(client))

    task_delete(task=Task.objects.get(pk=task.pk), actor=alice)
    tags.append(etag_of(client))
    assert conditional(client, tags[3]) == 200

    assert len(set(tags)) == len(tags)
    assert conditional(client, tags[-1]) == 304


def test_a_no_op_patch_keeps_the_tag(api: Api, alice: User, make_task: MakeTask) -> None:
    task = make_task(title="same")
    client = api(alice)
    tag = etag_of(client)

    client.patch(f"{URL}{task.pk}/", {"title": "same"}, format="json")

    assert conditional(client, tag) == 304


def test_changes_in_another_team_do_not_touch_a_team_filtered_list(
    api: Api, alice: User, mallory: User, team: Team, make_task: MakeTask
) -> None:
    other = Team.objects.create(name="Side project")
    Membership.objects.create(team=other, user=alice, role=Role.OWNER)
    make_task(title="ours")
    client = api(alice)
    filtered = etag_of(client, team=str(team.pk))
    everything = etag_of(client)

    make_task(title="elsewhere", team=other)

    assert conditional(client, filtered, team=str(team.pk)) == 304
    assert conditional(client, everything) == 200


def test_the_tag_depends_on_the_query_and_the_reader(
    api: Api, alice: User, bob: User, make_task: MakeTask
) -> None:
    for number in range(3):
        make_task(title=f"t{number}")
    alices = api(alice)
    tag = etag_of(alices)

    assert conditional(alices, tag, page_size="1") == 200
    assert conditional(alices, etag_of(alices, page_size="1"), page_size="1", page="2") == 200
    assert conditional(alices, tag, assignee="me") == 200
    assert conditional(api(bob), tag) == 200  # `assignee=me` and the teams are per reader


def test_joining_or_leaving_a_team_changes_the_tag(
    api: Api, alice: User, bob: User, mallory: User, team: Team, make_task: MakeTask
) -> None:
    make_task(title="platform work")
    client = api(mallory)
    outside = etag_of(client)
    assert client.get(URL).json()["count"] == 0

    Membership.objects.create(team=team, user=mallory, role=Role.MEMBER)
    assert conditional(client, outside) == 200
    inside = etag_of(client)
    assert client.get(URL).json()["count"] == 1

    task_team_member_remove(team=team, actor=alice, user_id=mallory.pk)
    assert conditional(client, inside) == 200
    assert client.get(URL).json()["count"] == 0


def test_removing_an_assignee_changes_the_tag_of_those_who_stay(
    api: Api, alice: User, bob: User, carol: User, make_task: MakeTask
) -> None:
    make_task(title="Bob's", assignee=bob)
    client = api(carol)
    tag = etag_of(client)

    task_team_member_remove(team=Task.objects.get().team, actor=alice, user_id=bob.pk)

    assert conditional(client, tag) == 200
    assert client.get(URL).json()["results"][0]["assignee"] is None


def test_overdue_lists_get_no_tag(api: Api, alice: User, make_task: MakeTask) -> None:
    # Whether a task is overdue changes with the clock, not only with writes.
    make_task(due_at=timezone.now() + timedelta(hours=1))

    response = api(alice).get(URL, {"overdue": "true"})

    assert response.status_code == 200
    assert "ETag" not in response


def test_invalid_filters_are_still_400(api: Api, alice: User) -> None:
    response = api(alice).get(URL, {"status": "nope"}, headers={"If-None-Match": "*"})

    assert response.status_code == 400
    assert "status" in response.json()


# --- one task ---------------------------------------------------------------------------------


def test_unchanged_task_is_304_from_its_version_alone(api: Api, bob: User, task: Task) -> None:
    client = api(bob)
    tag = etag_of(client, f"{URL}{task.pk}/")
    assert tag == '"1"'

    with CaptureQueriesContext(connection) as captured:
        assert conditional(client, tag, f"{URL}{task.pk}/") == 304
    # The user and the task's version (one indexed lookup, no row rendered).
    assert len(captured) == 2
    assert "version" in task_queries(captured)[0]


def test_changed_task_is_200_with_its_new_tag(api: Api, alice: User, bob: User, task: Task) -> None:
    client = api(bob)
    task_update(task_id=task.pk, actor=alice, data={"priority": "urgent"})

    response = client.get(f"{URL}{task.pk}/", headers={"If-None-Match": '"1"'})

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json()["priority"] == "urgent"


def test_conditional_read_of_an_invisible_task_is_404(api: Api, mallory: User, task: Task) -> None:
    response = api(mallory).get(f"{URL}{task.pk}/", headers={"If-None-Match": '"1"'})

    assert response.status_code == 404


def test_a_tag_made_up_by_a_client_does_not_skip_validation(api: Api, alice: User) -> None:
    client = api(alice)
    invalid = {"status": "nope"}

    for tag in ('"l0"', etag_of(client)):
        response = client.get(URL, invalid, headers={"If-None-Match": tag})
        assert response.status_code == 400
        assert "status" in response.json()


def test_an_invalid_team_filter_is_400_not_an_error(api: Api, alice: User) -> None:
    response = api(alice).get(URL, {"team": "x1"}, headers={"If-None-Match": '"l0"'})

    assert response.status_code == 400
    assert "team" in response.json()


def test_the_team_clock_counts_every_create_update_and_delete(
    api: Api, alice: User, team: Team
) -> None:
    client = api(alice)
    created = client.post("/api/v1/tasks/", {"team": team.pk, "title": "a"}, format="json")
    client.patch(f"/api/v1/tasks/{created.json()['id']}/", {"title": "b"}, format="json")
    client.delete(f"/api/v1/tasks/{created.json()['id']}/")

    clocks = list(TeamTaskClock.objects.filter(team=team))
    assert sum(clock.ticks for clock in clocks) == 3
    assert {str(clock) for clock in clocks} == {
        f"team {team.pk} slot {clock.slot}: {clock.ticks} changes" for clock in clocks
    }
