"""What a notification's email says: task, team, readable deadline and who acted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.notifications.emails import AUTOMATIC_ACTOR, notification_email_content
from taskflow_core.notifications.models import NotificationType
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

    content = notification_email_content(notification, now=NOW)

    assert content.subject == '[Platform] "Fix <login> & logout" is due in 30 minutes'
    assert "Task:     Fix <login> & logout" in content.text
    assert "Team:     Platform" in content.text
    assert "Deadline: Saturday 28 November 2026, 14:30 UTC (in 30 minutes)" in content.text
    assert f"Sent by: {AUTOMATIC_ACTOR}" in content.text
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

    content = notification_email_content(notification, now=DUE)

    assert content.subject == '[Platform] "Report" is overdue'
    assert "Deadline: Saturday 28 November 2026, 14:00 UTC (30 minutes ago)" in content.text
