"""Drill fixtures: the stack, a team of four, and a record of each drill's figures."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Role, Team
from tests.conftest import PASSWORD
from tests.support.processes import REPO

RESULTS = REPO / ".taskflow" / "drills" / "latest.json"


@pytest.fixture
def drill_stream() -> str:
    return f"taskflow:drill:{{events-{uuid.uuid4().hex}}}"


@pytest.fixture
def crew(db: None) -> tuple[Team, list[User]]:
    """A team of four (the first owns it), each with a verified address and email on."""
    team = Team.objects.create(name="Drill")
    users = []
    for n in range(4):
        suffix = uuid.uuid4().hex[:6]
        user = User.objects.create_user(
            username=f"drill{n}_{suffix}",
            email=f"drill{n}_{suffix}@example.com",
            password=PASSWORD,
            email_verified_at=timezone.now(),  # only verified addresses get notification email
        )
        Membership.objects.create(team=team, user=user, role=Role.OWNER if n == 0 else Role.MEMBER)
        users.append(user)
    return team, users


@pytest.fixture
def record_drill() -> Callable[..., None]:
    """`record_drill(name, **figures)`: kept in .taskflow/drills/latest.json for
    docs/reliability.md (figures are reported, never asserted against a timer)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)

    def record(name: str, **figures: Any) -> None:
        current: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        current[name] = figures
        RESULTS.write_text(json.dumps(current, indent=2, sort_keys=True))

    return record


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]
