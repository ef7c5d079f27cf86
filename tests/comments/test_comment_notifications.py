"""Who hears of a comment: the mentioned members (`mentioned`), the other watchers
(`task_commented`), never the author, never a non-member; once per comment."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.comments.services import comment_create, comment_update
from taskflow_core.notifications.models import Notification
from taskflow_core.tasks.models import Task, TaskWatcher
from taskflow_core.tasks.services import task_create, task_unwatch, task_update
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db


def inbox(user: User) -> list[tuple[str, int | None]]:
    return [
        (n.type, n.actor_id) for n in Notification.objects.filter(recipient=user).order_by("id")
    ]


def test_a_comment_notifies_creator_and_assignee_not_its_author(
    task: Task, alice: User, bob: User, carol: User
) -> None:
    Notification.objects.all().delete()
    comment_create(task_id=task.pk, author=carol, body="I can take a look")

    assert inbox(alice) == [("task_commented", carol.pk)]
    assert inbox(bob) == [("task_commented", carol.pk)]
    assert inbox(carol) == []
    message = Notification.objects.get(recipient=alice).message
    assert message == 'carol commented on "Fix login"'


def test_a_mention_notifies_the_member_once_as_a_mention(
    task: Task, alice: User, bob: User, carol: User
) -> None:
    Notification.objects.all().delete()
    comment_create(task_id=task.pk, author=alice, body="@carol and @bob, @carol again")

    assert inbox(carol) == [("mentioned", alice.pk)]
    assert inbox(bob) == [("mentioned", alice.pk)]  # a watcher too, but told once
    assert Notification.objects.get(recipient=carol).message == (
        'alice mentioned you in a comment on "Fix login"'
    )


def test_mentions_of_outsiders_and_of_oneself_notify_nobody(
    task: Task, alice: User, bob: User, mallory: User
) -> None:
    Notification.objects.all().delete()
    comment = comment_create(task_id=task.pk, author=bob, body="@mallory @bob @ghost")

    assert comment.mentions == [bob.pk]
    assert inbox(mallory) == []
    assert inbox(bob) == []
    assert inbox(alice) == [("task_commented", bob.pk)]


def test_commenters_and_the_mentioned_become_watchers(
    task: Task, alice: User, bob: User, carol: User, make_user: Callable[..., User], team: Team
) -> None:
    dave = make_user("dave")
    team.memberships.create(user=dave, role="member")
    comment_create(task_id=task.pk, author=carol, body="cc @dave")
    Notification.objects.all().delete()

    comment_create(task_id=task.pk, author=alice, body="thanks")

    assert inbox(carol) == [("task_commented", alice.pk)]
    assert inbox(dave) == [("task_commented", alice.pk)]
    assert set(TaskWatcher.objects.filter(task=task).values_list("user_id", flat=True)) == {
        alice.pk,
        bob.pk,
        carol.pk,
        dave.pk,
    }


def test_an_edit_notifies_only_members_mentioned_for_the_first_time(
    task: Task, alice: User, bob: User, carol: User
) -> None:
    comment = comment_create(task_id=task.pk, author=alice, body="@bob look")
    Notification.objects.all().delete()

    comment_update(comment_id=comment.pk, actor=alice, body="@bob and @carol look")
    comment_update(comment_id=comment.pk, actor=alice, body="@carol look")
    comment_update(comment_id=comment.pk, actor=alice, body="@bob @carol look again")

    assert inbox(carol) == [("mentioned", alice.pk)]
    assert inbox(bob) == []
    comment.refresh_from_db()
    assert comment.mentions == [bob.pk, carol.pk]


def test_status_changes_go_to_the_watchers(
    task: Task, alice: User, bob: User, carol: User, make_user: Callable[..., User], team: Team
) -> None:
    dave = make_user("dave")
    team.memberships.create(user=dave, role="member")
    comment_create(task_id=task.pk, author=carol, body="following")
    Notification.objects.all().delete()

    task_update(task_id=task.pk, actor=bob, data={"status": "in_progress"})

    assert inbox(alice) == [("task_status_changed", bob.pk)]
    assert inbox(carol) == [("task_status_changed", bob.pk)]
    assert inbox(bob) == []  # the actor
    assert inbox(dave) == []  # not a watcher

    task_unwatch(task=task, user=carol)
    task_update(task_id=task.pk, actor=bob, data={"status": "blocked"})
    assert inbox(carol) == [("task_status_changed", bob.pk)]


def test_a_description_mention_notifies_once_per_change_that_adds_it(
    team: Team, alice: User, bob: User, carol: User
) -> None:
    task = task_create(team=team, actor=alice, title="Plan", description="ask @bob")
    task_update(task_id=task.pk, actor=alice, data={"description": "ask @bob and @carol"})
    task_update(task_id=task.pk, actor=alice, data={"description": "ask @carol, cc @alice"})

    assert inbox(bob) == [("mentioned", alice.pk)]
    assert inbox(carol) == [("mentioned", alice.pk)]
    assert inbox(alice) == []
    assert Notification.objects.get(recipient=bob).message == 'alice mentioned you in "Plan"'
