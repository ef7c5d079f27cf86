from __future__ import annotations

from collections.abc import Callable

import pytest

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Role, Team


@pytest.fixture
def carol(make_user: Callable[..., User], team: Team) -> User:
    """An admin of `team` (Alice owns it, Bob is a plain member)."""
    user = make_user("carol")
    Membership.objects.create(team=team, user=user, role=Role.ADMIN)
    return user
