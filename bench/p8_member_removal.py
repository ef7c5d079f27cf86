"""P8 removing a member who has 2,000 assigned tasks.

A team of 10 with one member assigned 2,000 tasks (bulk-inserted; 50 in the smoke run). The
owner removes that member through `taskflow_core.tasks.services.task_team_member_remove`, timed
from call to return: the membership lock and delete, the bulk unassignment (one UPDATE), 2,000
activity rows and 2,000 `task.updated` outbox rows (one INSERT each), the commit, and the
after-commit publishing of the 2,000 events to the Redis stream (one pipeline) with their
bookkeeping UPDATE. Repeated with a fresh team each time (`repeats` of the mode).

Baseline in the same run: the bare UPDATE that unassigns the same number of tasks, nothing else.
"""

from __future__ import annotations

import time
from typing import Any

from bench.context import Context
from bench.database import make_team, make_users
from bench.report import row
from bench.stats import ratio, spread

TARGET_MS = 2000.0  # for 2,000 tasks (docs/api.md, "Teams")


def _team_with_assigned_tasks(index: int, tasks: int) -> tuple[Any, Any, Any]:
    from taskflow_core.tasks.models import Task

    users = make_users(f"p8r{index}u", 10)
    owner, member = users[0], users[1]
    team = make_team(f"p8 team {index}", owner, users)
    Task.objects.bulk_create(
        [
            Task(team=team, title=f"P8 task {n}", assignee=member, created_by=owner)
            for n in range(tasks)
        ],
        batch_size=1000,
    )
    return team, owner, member


def run(ctx: Context) -> dict[str, Any]:
    from taskflow_core.events.models import OutboxEvent
    from taskflow_core.tasks.models import Task
    from taskflow_core.tasks.services import task_team_member_remove

    tasks = ctx.mode.p8_tasks
    removal_ms: list[float] = []
    bare_ms: list[float] = []
    published: list[float] = []
    for index in range(ctx.mode.repeats):
        team, owner, member = _team_with_assigned_tasks(index, tasks)
        started = time.perf_counter()
        unassigned = task_team_member_remove(team=team, actor=owner, user_id=member.pk)
        removal_ms.append((time.perf_counter() - started) * 1000)
        assert unassigned == tasks, unassigned
        published.append(
            float(
                OutboxEvent.objects.filter(
                    team_id=team.pk, name="task.updated", published_at__isnull=False
                ).count()
            )
        )

        baseline_team, _, baseline_member = _team_with_assigned_tasks(index + 100, tasks)
        started = time.perf_counter()
        Task.objects.filter(team=baseline_team, assignee=baseline_member).update(assignee=None)
        bare_ms.append((time.perf_counter() - started) * 1000)
        ctx.log(f"P8: removal {removal_ms[-1]:.0f} ms, bare UPDATE {bare_ms[-1]:.0f} ms")
    value = spread(removal_ms)
    return {
        "title": f"removing a member with {tasks:,} assigned tasks",
        "rows": [
            row(
                "removal, events published",
                "ms",
                value,
                baseline=spread(bare_ms),
                ratio=spread([ratio(r, b) for r, b in zip(removal_ms, bare_ms, strict=True)]),
                target=f"≤ {TARGET_MS:g} ms",
                met=value["max"] <= TARGET_MS if tasks == 2000 else None,
            )
        ],
        "method": (__doc__ or "").strip(),
        "figures": {"events published after commit": spread(published)},
        "setup": {"tasks": tasks, "repeats": ctx.mode.repeats},
        "raw": {"removal_ms": removal_ms, "bare_update_ms": bare_ms},
    }
