"""Comment fixtures: a third member and a task created by Alice, assigned to Bob."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team


@pytest.fixture
def carol(make_user: Callable[..., User], team: Team) -> User:
    user = make_user("carol")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def task(team: Team, alice: User, bob: User) -> Task:
    return task_create(team=team, actor=alice, title="Fix login", assignee=bob)
