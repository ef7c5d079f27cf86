"""What the emails say: one notification reads as before; several read as one digest that names
the count and leads with the most important, listing each with its task id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.notifications.email_content import AUTOMATIC_ACTOR, digest_content
from taskflow_core.notifications.models import Notification, NotificationType
from taskflow_core.notifications.services import notification_create
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def test_a_deadline_email_names_task_team_deadline_and_sender(
    team: Team, alice: User, bob: User
) -> None:
    task = task_create(team=team, actor=alice, title="Fix <login> & logout", due_at=DUE)
    notification = notification_create(
        recipient=bob,
        type=NotificationType.DEADLINE_APPROACHING,
        task_id=task.pk,
        team_id=task.team_id,
        actor=None,
        message="due soon",
    )

    content = digest_content(recipient=bob, notifications=[notification], now=NOW)

    assert content.subject == '[Platform] "Fix <login> & logout" is due in 30 minutes'
    assert f"Task:     #{task.pk} Fix <login> & logout (/api/v1/tasks/{task.pk}/)" in content.text
    assert "Team:     Platform" in content.text
    assert "Deadline: Saturday 28 November 2026, 14:30 UTC (in 30 minutes)" in content.text
    assert f"By:       {AUTOMATIC_ACTOR}" in content.text
    assert "Fix &lt;login&gt; &amp; logout" in content.html  # escaped in HTML only
    assert "Saturday 28 November 2026, 14:30 UTC" in content.html


def test_an_overdue_email_says_how_late(team: Team, alice: User) -> None:
    task = task_create(team=team, actor=alice, title="Report", due_at=NOW)
    notification = notification_create(
        recipient=alice,
        type=NotificationType.TASK_OVERDUE,
        task_id=task.pk,
        team_id=task.team_id,
        actor=None,
        message="late",
    )

    content = digest_content(recipient=alice, notifications=[notification], now=DUE)

    assert content.subject == '[Platform] "Report" is overdue'
    assert "Deadline: Saturday 28 November 2026, 14:00 UTC (30 minutes ago)" in content.text


def test_a_digest_names_the_count_and_leads_with_the_most_important(
    team: Team, alice: User, bob: User
) -> None:
    first = task_create(team=team, actor=alice, title="Write docs")
    second = task_create(team=team, actor=alice, title="Fix login", due_at=NOW)
    third = task_create(team=team, actor=alice, title="Plan sprint")

    def make(task_title: str, type: str, message: str) -> Notification:
        task = {t.title: t for t in (first, second, third)}[task_title]
        return notification_create(
            recipient=bob,
            type=type,
            task_id=task.pk,
            team_id=task.team_id,
            actor=alice,
            message=message,
        )

    notifications = [
        make("Write docs", NotificationType.TASK_COMMENTED, 'alice commented on "Write docs"'),
        make("Fix login", NotificationType.TASK_OVERDUE, "late"),
        make("Plan sprint", NotificationType.MENTIONED, 'alice mentioned you in "Plan sprint"'),
    ]

    content = digest_content(recipient=bob, notifications=notifications, now=DUE)

    assert content.subject == '[Platform] 3 notifications: "Fix login" is overdue, and 2 more'
    assert "You have 3 unread notifications" in content.text
    text = content.text
    positions = [
        text.index('1. "Fix login" is overdue.'),
        text.index('2. alice mentioned you in "Plan sprint".'),
        text.index('3. alice commented on "Write docs".'),
    ]
    assert positions == sorted(positions)
    for task in (first, second, third):
        assert f"#{task.pk} {task.title} (/api/v1/tasks/{task.pk}/)" in text
        assert f"#{task.pk} {task.title}" in content.html


def test_a_digest_across_teams_is_not_prefixed_with_one_of_them(
    team: Team, alice: User, bob: User
) -> None:
    other = Team.objects.create(name="Other")
    other.memberships.create(user=alice, role="owner")
    here = task_create(team=team, actor=alice, title="Here")
    there = task_create(team=other, actor=alice, title="There")
    notifications = [
        notification_create(
            recipient=bob,
            type=NotificationType.TASK_ASSIGNED,
            task_id=task.pk,
            team_id=task.team_id,
            actor=alice,
            message="x",
        )
        for task in (here, there)
    ]

    content = digest_content(recipient=bob, notifications=notifications, now=NOW)

    assert (
        content.subject == '[TaskFlow Pro] 2 notifications: alice assigned you "Here", and 1 more'
    )
