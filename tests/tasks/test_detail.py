"""`GET|PATCH|DELETE /api/v1/tasks/{id}/`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_update
from taskflow_core.teams.models import Membership, Role, Team

Api = Callable[[User | None], APIClient]
MakeTask = Callable[..., Task]


def url(task: Task | int) -> str:
    return f"/api/v1/tasks/{task.pk if isinstance(task, Task) else task}/"


def patch(client: APIClient, task: Task, body: Any, **headers: str) -> Any:
    return client.patch(url(task), body, format="json", headers=headers)


# --- read ---------------------------------------------------------------------------------


def test_member_reads_a_task_with_its_etag(api: Api, bob: User, task: Task) -> None:
    response = api(bob).get(url(task))

    assert response.status_code == 200
    assert response.json()["id"] == task.pk
    assert response.json()["title"] == task.title
    assert response["ETag"] == '"1"'


def test_read_requires_authentication(api: Api, task: Task) -> None:
    assert api(None).get(url(task)).status_code == 401


def test_missing_task_is_404(api: Api, alice: User, task: Task) -> None:
    assert api(alice).get(url(task.pk + 1000)).status_code == 404
    assert api(alice).get(url(10**20)).status_code == 404


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_non_member_gets_404_and_changes_nothing(
    api: Api, mallory: User, task: Task, method: str
) -> None:
    response = getattr(api(mallory), method)(url(task), {"title": "mine"}, format="json")

    assert response.status_code == 404
    task.refresh_from_db()
    assert task.title == "Write the release notes"
    assert task.version == 1


# --- update -------------------------------------------------------------------------------


def test_member_patches_fields_and_version_goes_up(
    api: Api, bob: User, carol: User, task: Task
) -> None:
    due = timezone.now() + timedelta(days=2)
    response = patch(
        api(bob),
        task,
        {
            "title": "Publish the notes",
            "description": "on the blog",
            "priority": "high",
            "due_at": due.isoformat(),
            "assignee": carol.pk,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Publish the notes"
    assert body["description"] == "on the blog"
    assert body["priority"] == "high"
    assert body["assignee"] == carol.pk
    assert body["version"] == 2
    assert response["ETag"] == '"2"'
    task.refresh_from_db()
    assert task.due_at == due
    assert task.priority_rank == 2

    second = patch(api(bob), task, {"assignee": None, "due_at": None})
    assert second.status_code == 200
    assert second.json()["assignee"] is None
    assert second.json()["due_at"] is None
    assert second.json()["version"] == 3


def test_no_op_patch_keeps_the_version(api: Api, alice: User, task: Task) -> None:
    same = patch(api(alice), task, {"title": task.title, "status": "todo"})
    empty = patch(api(alice), task, {})

    assert same.status_code == empty.status_code == 200
    assert same.json()["version"] == empty.json()["version"] == 1
    assert same["ETag"] == '"1"'
    task.refresh_from_db()
    assert task.version == 1
    assert list(task.activity.values_list("verb", flat=True)) == ["created"]


def test_completed_at_follows_status(api: Api, bob: User, task: Task) -> None:
    done = patch(api(bob), task, {"status": "done"})
    assert done.status_code == 200
    assert done.json()["completed_at"] is not None

    still_done = patch(api(bob), task, {"title": "Renamed"})
    assert still_done.json()["completed_at"] == done.json()["completed_at"]

    reopened = patch(api(bob), task, {"status": "in_progress"})
    assert reopened.status_code == 200
    assert reopened.json()["completed_at"] is None
    assert reopened.json()["version"] == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"status": "finished"}, "status"),
        ({"status": None}, "status"),
        ({"priority": "critical"}, "priority"),
        ({"due_at": "soon"}, "due_at"),
        ({"assignee": 10**12}, "assignee"),
        ({"team": 1}, "team"),
        ({"version": 9}, "version"),
        ({"created_by": 1}, "created_by"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_patch_is_400_naming_the_field(
    api: Api, alice: User, task: Task, body: dict[str, Any], field: str
) -> None:
    response = patch(api(alice), task, body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    task.refresh_from_db()
    assert task.version == 1


def test_read_only_and_unknown_fields_say_so(api: Api, alice: User, task: Task) -> None:
    response = patch(api(alice), task, {"team": 1, "colour": "red"})

    assert response.json() == {"colour": ["Unknown field."], "team": ["This field is read-only."]}


def test_assignee_outside_the_team_is_refused(
    api: Api, alice: User, mallory: User, task: Task
) -> None:
    response = patch(api(alice), task, {"assignee": mallory.pk})

    assert response.status_code == 400
    assert response.json() == {"assignee": ["The assignee must be a member of the task's team."]}


def test_malformed_json_is_400(api: Api, alice: User, task: Task) -> None:
    response = api(alice).patch(url(task), "{title", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_patch_requires_authentication(api: Api, task: Task) -> None:
    assert patch(api(None), task, {"title": "x"}).status_code == 401


# --- If-Match -----------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "1", " 1 ", "*"])
def test_if_match_current_version_applies(api: Api, alice: User, task: Task, tag: str) -> None:
    response = patch(api(alice), task, {"title": "New"}, **{"If-Match": tag})

    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_stale_if_match_is_412_and_changes_nothing(
    api: Api, alice: User, bob: User, task: Task
) -> None:
    task_update(task_id=task.pk, actor=bob, data={"title": "Bob was first"})

    response = patch(api(alice), task, {"title": "Alice"}, **{"If-Match": '"1"'})

    assert response.status_code == 412
    assert "detail" in response.json()
    task.refresh_from_db()
    assert task.title == "Bob was first"
    assert task.version == 2


def test_stale_if_match_is_412_even_for_a_no_op(api: Api, alice: User, task: Task) -> None:
    response = patch(api(alice), task, {}, **{"If-Match": '"7"'})

    assert response.status_code == 412


@pytest.mark.parametrize("tag", ["abc", '"1', '"one"', "1, 2", "-1", 'W/""', ""])
def test_malformed_if_match_is_400(api: Api, alice: User, task: Task, tag: str) -> None:
    response = patch(api(alice), task, {"title": "New"}, **{"If-Match": tag})

    assert response.status_code == 400
    assert list(response.json()) == ["If-Match"]
    task.refresh_from_db()
    assert task.version == 1


def test_etag_of_a_patch_is_the_next_if_match(api: Api, alice: User, task: Task) -> None:
    client = api(alice)
    etag = client.get(url(task))["ETag"]
    first = patch(client, task, {"title": "One"}, **{"If-Match": etag})
    second = patch(client, task, {"title": "Two"}, **{"If-Match": first["ETag"]})

    assert first.status_code == second.status_code == 200
    assert second.json()["version"] == 3


# --- delete -------------------------------------------------------------------------------


def test_creator_deletes_their_task(api: Api, bob: User, make_task: MakeTask) -> None:
    task = make_task(actor=bob)

    response = api(bob).delete(url(task))

    assert response.status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()
    assert api(bob).get(url(task)).status_code == 404


def test_team_owner_deletes_a_members_task(
    api: Api, alice: User, make_task: MakeTask, bob: User
) -> None:
    task = make_task(actor=bob)

    assert api(alice).delete(url(task)).status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()


def test_member_cannot_delete_someone_elses_task(api: Api, bob: User, task: Task) -> None:
    response = api(bob).delete(url(task))

    assert response.status_code == 403
    assert Task.objects.filter(pk=task.pk).exists()


def test_delete_requires_authentication(api: Api, task: Task) -> None:
    assert api(None).delete(url(task)).status_code == 401
    assert Task.objects.filter(pk=task.pk).exists()


def test_team_admin_deletes_any_task(
    api: Api, make_user: Callable[..., User], team: Team, task: Task
) -> None:
    admin = make_user("dana")
    Membership.objects.create(team=team, user=admin, role=Role.ADMIN)

    assert api(admin).delete(url(task)).status_code == 204
