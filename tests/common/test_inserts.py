"""`common.inserts.insert` writes the row `Model.save()` would have written."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.common.inserts import insert
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db


def test_a_task_inserted_reads_back_as_saved(alice: User, team: Team) -> None:
    task = Task(team=team, title="Ship", created_by=alice, assignee=alice)

    insert(task)

    assert task.pk is not None
    assert not task._state.adding
    stored = Task.objects.get(pk=task.pk)
    assert (stored.title, stored.assignee_id, stored.version) == ("Ship", alice.pk, 1)
    assert stored.created_at == task.created_at
    assert stored.updated_at == task.updated_at


def test_json_and_array_fields_keep_their_values(team: Team) -> None:
    event = OutboxEvent(
        name="task.created",
        team_id=team.pk,
        actor={"id": 1, "username": "a"},
        data={"task": {"id": 7, "title": 'é "quoted"'}},
        recipients=[3, 1, 2],
        occurred_at=timezone.now(),
    )

    insert(event)

    stored = OutboxEvent.objects.get(pk=event.pk)
    assert stored.data == {"task": {"id": 7, "title": 'é "quoted"'}}
    assert stored.recipients == [3, 1, 2]
    assert stored.actor == {"id": 1, "username": "a"}


def test_a_database_expression_falls_back_to_save(alice: User, team: Team) -> None:
    task = Task(team=team, title="Later", created_by=alice, due_at=Now())

    insert(task)

    stored = Task.objects.get(pk=task.pk)
    assert stored.due_at is not None


def _event(team: Team, recipients: list[Any]) -> OutboxEvent:
    return OutboxEvent(
        name="task.created",
        team_id=team.pk,
        actor={"id": 1, "username": "a"},
        data={"task": {"id": 7}},
        recipients=recipients,
        occurred_at=timezone.now(),
    )


def test_a_large_team_s_recipients_are_stored_whole_and_in_order(team: Team) -> None:
    recipients = [*range(5000, 0, -1), 2**63 - 1]  # one array literal, the largest bigint too
    event = _event(team, recipients)

    insert(event)

    assert OutboxEvent.objects.get(pk=event.pk).recipients == recipients


@pytest.mark.parametrize("bad", ["1); DROP TABLE x; --", "3,4", None])
def test_a_recipient_that_is_not_an_integer_is_refused_before_the_database(
    team: Team, bad: object
) -> None:
    event = _event(team, [1, bad])

    with pytest.raises((TypeError, ValueError)):
        insert(event)

    assert not OutboxEvent.objects.exists()
