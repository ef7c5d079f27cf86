"""Task fixtures: a third team member and a factory that goes through the real service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team


@pytest.fixture
def carol(make_user: Callable[..., User], team: Team) -> User:
    """A plain member of `team`, next to Bob."""
    user = make_user("carol")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def make_task(team: Team, alice: User) -> Callable[..., Task]:
    def make(**fields: Any) -> Task:
        fields.setdefault("team", team)
        fields.setdefault("actor", alice)
        fields.setdefault("title", "Write the release notes")
        return task_create(**fields)

    return make


@pytest.fixture
def task(make_task: Callable[..., Task]) -> Task:
    """Created by Alice (the team's owner), unassigned, version 1."""
    return make_task()


def add_form(team: Team, title: str, **changes: Any) -> dict[str, Any]:
    """The admin's "add task" form as a browser posts it."""
    return {
        "team": team.pk,
        "title": title,
        "description": "",
        "status": "todo",
        "priority": "medium",
        "due_at_0": "",
        "due_at_1": "",
        "assignee": "",
        "activity-TOTAL_FORMS": 0,
        "activity-INITIAL_FORMS": 0,
    } | changes
