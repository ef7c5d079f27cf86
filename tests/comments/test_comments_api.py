"""`/tasks/{id}/comments/` and `/comments/{id}/`: the thread, who may edit or delete, what a body
may hold, and the activity and events each change leaves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from taskflow_core.accounts.models import User
from taskflow_core.comments.models import Comment
from taskflow_core.comments.services import comment_create
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task, TaskActivity
from taskflow_core.teams.models import Membership, Role, Team

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], APIClient]


def thread(task: Task) -> str:
    return f"/api/v1/tasks/{task.pk}/comments/"


def post(client: APIClient, task: Task, body: object) -> tuple[int, dict[str, object]]:
    response = client.post(thread(task), {"body": body}, format="json")
    return response.status_code, response.json()


def test_a_comment_is_created_with_its_author_and_mentions(
    api: Api, task: Task, alice: User, bob: User, carol: User
) -> None:
    status, body = post(api(bob), task, "@alice @CAROL please review; @nobody is not here")

    assert status == 201, body
    comment = Comment.objects.get()
    assert body == {
        "id": comment.pk,
        "task": task.pk,
        "author": {"id": bob.pk, "username": "bob"},
        "body": "@alice @CAROL please review; @nobody is not here",
        "mentions": [alice.pk, carol.pk],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "edited": False,
    }
    assert comment.mentions == [alice.pk, carol.pk]


def test_the_thread_is_oldest_first_and_paginated(api: Api, task: Task, alice: User) -> None:
    for number in range(3):
        comment_create(task_id=task.pk, author=alice, body=f"c{number}")

    response = api(alice).get(thread(task), {"page_size": 2})

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 3
    assert [c["body"] for c in page["results"]] == ["c0", "c1"]
    assert page["next"] is not None
    second = api(alice).get(thread(task), {"page_size": 2, "page": 2}).json()
    assert [c["body"] for c in second["results"]] == ["c2"]


def test_the_thread_costs_the_same_queries_whatever_the_page_size(
    api: Api,
    task: Task,
    alice: User,
    bob: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for number in range(30):
        comment_create(task_id=task.pk, author=alice if number % 2 else bob, body=f"@bob {number}")
    client = api(alice)

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(thread(task), {"page_size": 1}).json()["results"]) == 1
    with django_assert_num_queries(len(one)):
        assert len(client.get(thread(task), {"page_size": 30}).json()["results"]) == 30


def test_outsiders_see_no_thread_and_cannot_comment(
    api: Api, task: Task, mallory: User, alice: User
) -> None:
    comment = comment_create(task_id=task.pk, author=alice, body="internal")
    client = api(mallory)

    assert client.get(thread(task)).status_code == 404
    assert post(client, task, "hi")[0] == 404
    assert client.get(f"/api/v1/comments/{comment.pk}/").status_code == 404
    assert client.patch(f"/api/v1/comments/{comment.pk}/", {"body": "x"}).status_code == 404
    assert client.delete(f"/api/v1/comments/{comment.pk}/").status_code == 404
    assert api(None).get(thread(task)).status_code == 401
    assert Comment.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "This field may not be blank."),
        ("  \n\t ", "This field may not be blank."),
        ("x" * 10_001, "Ensure this field has no more than 10000 characters."),
        ("bell \x07", "Control character U+0007 at position 5 is not allowed"),
        ("carriage\r\nreturn", "Control character U+000D at position 8 is not allowed"),
        ("nul \x00", "Control character U+0000 at position 4 is not allowed"),
        ("c1 \x85", "Control character U+0085 at position 3 is not allowed"),
        (None, "This field may not be null."),
        (42, "Not a valid string."),
    ],
)
def test_bad_bodies_are_a_400_naming_body(
    api: Api, task: Task, alice: User, body: object, message: str
) -> None:
    status, errors = post(api(alice), task, body)

    assert status == 400, errors
    assert list(errors) == ["body"]
    assert message in str(errors["body"][0])  # type: ignore[index]
    assert Comment.objects.count() == 0


def test_newlines_tabs_and_the_longest_body_are_fine(api: Api, task: Task, alice: User) -> None:
    assert post(api(alice), task, "line one\n\tindented ✓")[0] == 201
    assert post(api(alice), task, "é" * 10_000)[0] == 201


def test_unknown_fields_are_named(api: Api, task: Task, alice: User) -> None:
    response = api(alice).post(thread(task), {"body": "ok", "author": 1}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["author"]


def test_the_author_edits_and_the_comment_says_so(
    api: Api, task: Task, alice: User, bob: User
) -> None:
    comment = comment_create(task_id=task.pk, author=bob, body="frist")

    response = api(bob).patch(f"/api/v1/comments/{comment.pk}/", {"body": "first"}, format="json")

    assert response.status_code == 200
    assert response.json()["body"] == "first"
    assert response.json()["edited"] is True
    assert api(alice).get(f"/api/v1/comments/{comment.pk}/").json()["edited"] is True


def test_nobody_else_edits_not_even_the_owner(api: Api, task: Task, alice: User, bob: User) -> None:
    comment = comment_create(task_id=task.pk, author=bob, body="mine")

    response = api(alice).patch(f"/api/v1/comments/{comment.pk}/", {"body": "x"}, format="json")

    assert response.status_code == 403
    comment.refresh_from_db()
    assert (comment.body, comment.edited) == ("mine", False)


def test_an_edit_is_validated_like_a_new_comment(api: Api, task: Task, bob: User) -> None:
    comment = comment_create(task_id=task.pk, author=bob, body="mine")
    response = api(bob).patch(
        f"/api/v1/comments/{comment.pk}/", {"body": "\x1b[31m"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["body"]


def test_the_author_and_team_managers_delete_plain_members_do_not(
    api: Api, task: Task, team: Team, alice: User, bob: User, carol: User
) -> None:
    by_carol = [comment_create(task_id=task.pk, author=carol, body=f"{n}") for n in range(3)]
    Membership.objects.filter(team=team, user=bob).update(role=Role.ADMIN)
    dave_member = Membership.objects.create(
        team=team, user=User.objects.create_user("dave", "dave@example.com"), role=Role.MEMBER
    )

    assert api(dave_member.user).delete(f"/api/v1/comments/{by_carol[0].pk}/").status_code == 403
    assert api(carol).delete(f"/api/v1/comments/{by_carol[0].pk}/").status_code == 204
    assert api(bob).delete(f"/api/v1/comments/{by_carol[1].pk}/").status_code == 204  # admin
    assert api(alice).delete(f"/api/v1/comments/{by_carol[2].pk}/").status_code == 204  # owner
    assert Comment.objects.count() == 0
    assert api(alice).delete(f"/api/v1/comments/{by_carol[2].pk}/").status_code == 404


def test_every_change_leaves_activity_and_an_event_for_the_team(
    api: Api, task: Task, alice: User, bob: User, carol: User, mallory: User
) -> None:
    OutboxEvent.objects.all().delete()
    client = api(bob)
    created = client.post(thread(task), {"body": "one"}, format="json").json()
    url = f"/api/v1/comments/{created['id']}/"
    client.patch(url, {"body": "two"}, format="json")
    client.delete(url)

    activity = TaskActivity.objects.filter(task=task).exclude(verb="created").order_by("id")
    assert [(a.verb, a.actor_id, a.changes) for a in activity] == [
        ("commented", bob.pk, {"comment": [None, created["id"]]}),
        ("comment_edited", bob.pk, {"comment": [created["id"], created["id"]]}),
        ("comment_deleted", bob.pk, {"comment": [created["id"], None]}),
    ]
    events = OutboxEvent.objects.filter(name__startswith="comment.").order_by("id")
    assert [e.name for e in events] == ["comment.created", "comment.updated", "comment.deleted"]
    members = sorted([alice.pk, bob.pk, carol.pk])
    assert all(e.recipients == members for e in events)
    assert events[0].data["comment"] == {**created, "body_truncated": False}
    assert events[1].data["comment"]["body"] == "two"
    assert events[1].data["comment"]["edited"] is True
    assert events[2].data == {"comment": {"id": created["id"], "task": task.pk}}
    activity_api = api(alice).get(f"/api/v1/tasks/{task.pk}/activity/").json()["results"]
    assert [a["verb"] for a in activity_api][-3:] == [
        "commented",
        "comment_edited",
        "comment_deleted",
    ]


def test_comments_go_with_their_task(api: Api, task: Task, alice: User) -> None:
    comment_create(task_id=task.pk, author=alice, body="bye")
    assert api(alice).delete(f"/api/v1/tasks/{task.pk}/").status_code == 204
    assert Comment.objects.count() == 0
