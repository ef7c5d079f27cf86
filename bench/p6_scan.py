"""P6 deadline scan over 100k tasks.

100,000 tasks are bulk-inserted with COPY across 20 teams: a tenth closed (done/cancelled), a
tenth without a deadline, about 0.1 % overdue, 0.1 % due within the reminder lead time, the rest
due between 2 hours and 60 days out. The first scan raises the alerts for that backlog (timed,
reported apart). Then each steady-state scan follows two tasks newly moved into the lead window
(the trickle a real minute brings): `taskflow_core.reminders.services.deadline_scan`, timed from
call to return, its transaction, notifications and after-commit publishing included.

Baseline in the same run: the bare query the scan cannot do without - the ids of open tasks due
before the horizon, through the same partial index - timed the same way right after each scan.
That query's plan (EXPLAIN ANALYZE) is kept with the raw results.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from bench import services
from bench.context import Context
from bench.database import make_team, make_users
from bench.report import row
from bench.stats import latency_summary, ratio, spread

TARGET_MS = 200.0
TEAMS = 20
USERS = 50


def _insert(count: int) -> dict[str, int]:
    """COPY `count` tasks straight into the table; returns how many of each kind."""
    from django.db import connection
    from django.utils import timezone

    from taskflow_core.tasks.models import PRIORITY_RANK, Priority, Status, Task

    users = make_users("p6u", USERS)
    teams = [make_team(f"p6 team {index}", users[0], users) for index in range(TEAMS)]
    now = timezone.now()
    rng = random.Random(6)
    kinds = {"closed": 0, "no_deadline": 0, "overdue": 0, "approaching": 0, "later": 0}
    columns = [
        "team_id",
        "title",
        "description",
        "status",
        "priority",
        "priority_rank",
        "due_at",
        "assignee_id",
        "created_by_id",
        "created_at",
        "updated_at",
        "completed_at",
        "version",
    ]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {Task._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for index in range(count):
            roll = rng.random()
            status, due_at, completed = Status.TODO.value, None, None
            if roll < 0.10:
                status = rng.choice([Status.DONE.value, Status.CANCELLED.value])
                completed = now if status == Status.DONE.value else None
                due_at = now - timedelta(hours=rng.uniform(-500, 500))
                kinds["closed"] += 1
            elif roll < 0.20:
                kinds["no_deadline"] += 1
            elif roll < 0.201:
                due_at = now - timedelta(hours=rng.uniform(1, 48))
                kinds["overdue"] += 1
            elif roll < 0.202:
                due_at = now + timedelta(minutes=rng.uniform(1, 59))
                kinds["approaching"] += 1
            else:
                due_at = now + timedelta(hours=rng.uniform(2, 24 * 60))
                kinds["later"] += 1
            priority = rng.choice(list(Priority))
            copy.write_row(
                (
                    teams[index % TEAMS].pk,
                    f"P6 task {index}",
                    "",
                    status,
                    priority.value,
                    PRIORITY_RANK[priority],
                    due_at,
                    users[index % USERS].pk,
                    users[0].pk,
                    now,
                    now,
                    completed,
                    1,
                )
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Task._meta.db_table}")
    return kinds


def _bare_query(explain: bool = False) -> tuple[float, list[str]]:
    """The predicate every scan evaluates, alone: timed, or with its plan (EXPLAIN ANALYZE)."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from taskflow_core.tasks.models import CLOSED_STATUSES, Task

    horizon = timezone.now() + timedelta(minutes=settings.TASKFLOW_REMINDER_LEAD_MINUTES)
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if explain else ""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{prefix}SELECT id FROM {Task._meta.db_table} WHERE due_at IS NOT NULL"
            " AND NOT (status = ANY(%s)) AND due_at <= %s",
            [[str(status) for status in CLOSED_STATUSES], horizon],
        )
        rows = cursor.fetchall()
    elapsed = time.perf_counter() - started
    return elapsed, [str(row[0]) for row in rows] if explain else []


def _trickle(rng: random.Random, count: int) -> None:
    """Move `count` open tasks into the lead window, as a minute of real use would."""
    from django.db.models import Max
    from django.utils import timezone

    from taskflow_core.tasks.models import Task

    top = Task.objects.aggregate(top=Max("id"))["top"] or 0
    ids = [rng.randint(1, top) for _ in range(count)]
    Task.objects.filter(pk__in=ids, status="todo").update(
        due_at=timezone.now() + timedelta(minutes=rng.uniform(5, 55))
    )


def run(ctx: Context) -> dict[str, Any]:
    from django.utils import timezone

    from taskflow_core.reminders.services import deadline_scan

    started = time.perf_counter()
    kinds = _insert(ctx.mode.p6_tasks)
    insert_seconds = time.perf_counter() - started
    ctx.log(f"P6: {ctx.mode.p6_tasks:,} tasks inserted in {insert_seconds:.1f}s: {kinds}")

    started = time.perf_counter()
    first_alerts = len(deadline_scan(now=timezone.now()))
    first_seconds = time.perf_counter() - started
    ctx.log(f"P6: first scan raised {first_alerts} alerts in {first_seconds * 1000:.0f} ms")

    rng = random.Random(66)
    scans: list[float] = []
    bare: list[float] = []
    alerts: list[int] = []
    for _ in range(ctx.mode.p6_scans):
        _trickle(rng, 2)
        started = time.perf_counter()
        alerts.append(len(deadline_scan(now=timezone.now())))
        scans.append(time.perf_counter() - started)
        bare.append(_bare_query()[0])
    plan = _bare_query(explain=True)[1]
    services.celery_purge(ctx.env)  # the alert emails nobody will send
    scan = latency_summary(scans)
    baseline = latency_summary(bare)
    ctx.log(
        f"P6: steady scans p50 {scan['p50_ms']:.1f} ms max {scan['max_ms']:.1f} ms;"
        f" bare query p50 {baseline['p50_ms']:.1f} ms"
    )
    ms = [value * 1000 for value in scans]
    bare_ms = [value * 1000 for value in bare]
    per_scan = spread(ms)
    return {
        "title": f"deadline scan over {ctx.mode.p6_tasks:,} tasks",
        "rows": [
            row(
                "steady-state scan time",
                "ms",
                per_scan,
                baseline=spread(bare_ms),
                ratio=spread([ratio(s, b) for s, b in zip(ms, bare_ms, strict=True)]),
                target=f"≤ {TARGET_MS:g} ms",
                met=per_scan["max"] <= TARGET_MS,
            ),
            row(
                "first scan (backlog of alerts)",
                "ms",
                spread([first_seconds * 1000]),
            ),
        ],
        "method": (__doc__ or "").strip()
        + "\n\nHere min/median/max are over the individual scans, and the target must hold for"
        " the slowest one.",
        "figures": {"alerts per steady scan": spread([float(count) for count in alerts])},
        "setup": {
            "tasks": ctx.mode.p6_tasks,
            "kinds": kinds,
            "insert_seconds": round(insert_seconds, 1),
            "first_scan_alerts": first_alerts,
            "scans": ctx.mode.p6_scans,
        },
        "raw": {"scan_ms": ms, "bare_query_ms": bare_ms, "bare_query_plan": plan},
    }
