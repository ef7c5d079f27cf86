"""P2 API throughput: task create, task list and the conditional list at 16 concurrent clients.

Closed loop: 16 keep-alive connections, each sending its next request when the last one was
answered, for a fixed time after a short warm-up. `POST /api/v1/tasks/` goes through JWT auth,
validation, the activity row and the outbox (no assignee, so no notification or email);
`GET /api/v1/tasks/?team=` lists the first page (50, then 200 tasks) of a team of 500 tasks;
the conditional list sends each client's current `If-None-Match` for the 50-task page and gets
304s. Baselines in the same run, on the same gunicorn command and settings:
`bench/baseline_django`, plain Django views (no DRF, no JWT) writing the same task row and
returning the same first page (same rows, fields and JSON shape). The product and its
baseline take turns of half a second (`alternating_closed_loops`) until each has had the
phase's time, so the machine's spells weigh on both alike: these machines are shared, and
plain Django's creates/s moved from 498 to 937 between consecutive phases of one run (a
baseline run just before or around the product's phase still left whichever ran in the
slower spell behind). Within each repeat: the creates; the list of 50, its baseline and the
304s, in turns (the 304 is compared with that full page); the list of 200 and its baseline.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import uvloop

from bench import services
from bench.context import HOST, Context
from bench.database import access_token, close_django_connections, make_team, make_users
from bench.httpclient import HttpConnection, LoadResult, Request, alternating_closed_loops
from bench.report import row
from bench.stats import latency_summary, over_repeats, ratio, spread

TARGET_RPS_RATIO = 0.5  # at least half of plain Django's throughput
TARGET_P99_RATIO = 2.0  # p99 at most twice plain Django's
TARGET_304_RATIO = 2.0  # the 304 at least twice as fast as the full 50-task page
LIST_TASKS = 500
PAGE_SIZES = (50, 200)
TURN_SECONDS = 0.5  # each side's turn in a side-by-side phase


def _seed(ctx: Context) -> dict[str, Any]:
    from taskflow_core.tasks.models import Task

    users = make_users("p2u", ctx.mode.p2_clients)
    team = make_team("p2 create team", users[0], users)
    list_team = make_team("p2 list team", users[0], users)
    Task.objects.bulk_create(
        [
            Task(
                team=list_team,
                title=f"listed {index}",
                description=f"Task number {index} of the list benchmark's team.",
                created_by=users[index % len(users)],
                assignee=users[(index + 1) % len(users)] if index % 3 else None,
            )
            for index in range(LIST_TASKS)
        ]
    )
    return {
        "team": team.pk,
        "list_team": list_team.pk,
        "users": [user.pk for user in users],
        "tokens": [access_token(user) for user in users],
    }


def _summary(load: LoadResult, expected: int) -> dict[str, Any]:
    ok = load.ok(expected)
    return {
        "requests": len(load.responses),
        "failed": len(load.responses) - len(ok) + len(load.errors),
        "statuses": sorted({response.status for response in load.responses}),
        "errors": load.errors[:3],
        "rps": len(ok) / load.elapsed,
        **latency_summary([response.latency for response in ok]),
    }


async def _etags(port: int, path: str, headers: list[dict[str, str]]) -> list[str]:
    """Each client's current ETag of `path` (it depends on who asks)."""
    connection = HttpConnection(HOST, port)
    tags: list[str] = []
    try:
        for header in headers:
            response = await connection.request(Request("GET", path, None, header))
            if response.status != 200 or response.etag is None:
                raise RuntimeError(f"GET {path}: {response.status}, ETag {response.etag}")
            tags.append(response.etag)
    finally:
        connection.close()
    return tags


async def _measure(ctx: Context, seed: dict[str, Any], api: int, plain: int) -> list[Any]:
    mode = ctx.mode
    tokens, users = seed["tokens"], seed["users"]
    clients = mode.p2_clients
    auth = [ctx.bearer(token) for token in tokens]

    def create(index: int) -> Request:
        body = {"team": seed["team"], "title": f"P2 task {index}", "priority": "high"}
        return Request("POST", "/api/v1/tasks/", body, auth[index % clients])

    def plain_create(index: int) -> Request:
        body = {"team": seed["team"], "title": f"P2 task {index}", "created_by": users[0]}
        return Request("POST", "/bench/tasks/", body)

    def list_path(size: int) -> str:
        return f"/api/v1/tasks/?team={seed['list_team']}&page_size={size}"

    def listing(size: int) -> Any:
        return lambda index: Request("GET", list_path(size), None, auth[index % clients])

    def plain_listing(size: int) -> Any:
        path = f"/bench/tasks/list/?team={seed['list_team']}&page_size={size}"
        return lambda index: Request("GET", path, None)

    repeats = []
    warmup = min(1.0, mode.p2_seconds)

    async def in_turns(*sides: tuple[int, Any], seconds: float) -> list[LoadResult]:
        """The sides (port, requests) in turns, `seconds` each."""
        return await alternating_closed_loops(HOST, sides, clients, seconds, TURN_SECONDS, warmup)

    for repeat in range(mode.repeats):
        seconds = mode.p2_seconds
        baseline, subject = await in_turns((plain, plain_create), (api, create), seconds=seconds)
        measured: dict[str, Any] = {
            "baseline": _summary(baseline, 201),
            "subject": _summary(subject, 201),
        }
        # The 304 takes its turns with the full page it is compared with.
        tags = await _etags(api, list_path(50), auth)
        conditional = [{**auth[slot], "If-None-Match": tags[slot]} for slot in range(clients)]

        def unchanged(index: int, headers: list[dict[str, str]] = conditional) -> Request:
            return Request("GET", list_path(50), None, headers[index % clients])

        baseline, subject, not_modified = await in_turns(
            (plain, plain_listing(50)), (api, listing(50)), (api, unchanged), seconds=seconds
        )
        measured["plain_list_50"] = _summary(baseline, 200)
        measured["list_50"] = _summary(subject, 200)
        measured["list_304"] = _summary(not_modified, 304)
        baseline, subject = await in_turns(
            (plain, plain_listing(200)), (api, listing(200)), seconds=seconds
        )
        measured["plain_list_200"] = _summary(baseline, 200)
        measured["list_200"] = _summary(subject, 200)
        ctx.log(
            f"P2 repeat {repeat + 1}: "
            + "; ".join(
                f"{name} {figures['rps']:.0f} req/s p99 {figures['p99_ms']:.1f} ms"
                for name, figures in measured.items()
            )
        )
        repeats.append(measured)
    return repeats


def run(ctx: Context) -> dict[str, Any]:
    seed = _seed(ctx)
    close_django_connections()
    with ExitStack() as stack:
        core, plain = services.api_beside_plain_django(stack, ctx.env)
        repeats = uvloop.run(_measure(ctx, seed, core.port or 0, plain.port or 0))
    return summarise(ctx, repeats)


def _against_plain(
    repeats: list[dict[str, Any]], subject: str, baseline: str, what: str
) -> list[dict[str, Any]]:
    """req/s (>= 0.5x plain), p99 (<= 2x plain) and p50 of `subject` next to `baseline`."""
    pairs = [(repeat[subject], repeat[baseline]) for repeat in repeats]
    rps_ratio = spread([ratio(s["rps"], b["rps"]) for s, b in pairs])
    p99_ratio = spread([ratio(s["p99_ms"], b["p99_ms"]) for s, b in pairs])
    values = [repeat[subject] for repeat in repeats]
    bases = [repeat[baseline] for repeat in repeats]
    return [
        row(
            f"{what} req/s",
            "req/s",
            over_repeats(values, "rps"),
            baseline=over_repeats(bases, "rps"),
            ratio=rps_ratio,
            target=f">= {TARGET_RPS_RATIO:g}x plain Django",
            met=rps_ratio["median"] >= TARGET_RPS_RATIO,
        ),
        row(
            f"{what} p99",
            "ms",
            over_repeats(values, "p99_ms"),
            baseline=over_repeats(bases, "p99_ms"),
            ratio=p99_ratio,
            target=f"≤ {TARGET_P99_RATIO:g}x plain Django",
            met=p99_ratio["median"] <= TARGET_P99_RATIO,
        ),
        row(
            f"{what} p50",
            "ms",
            over_repeats(values, "p50_ms"),
            baseline=over_repeats(bases, "p50_ms"),
            ratio=spread([ratio(s["p50_ms"], b["p50_ms"]) for s, b in pairs]),
        ),
    ]


def summarise(ctx: Context, repeats: list[dict[str, Any]]) -> dict[str, Any]:
    rows = _against_plain(repeats, "subject", "baseline", "create")
    for size in PAGE_SIZES:
        rows += _against_plain(repeats, f"list_{size}", f"plain_list_{size}", f"list ({size})")
    conditional = [repeat["list_304"] for repeat in repeats]
    full = [repeat["list_50"] for repeat in repeats]
    speedup = spread([ratio(c["rps"], f["rps"]) for c, f in zip(conditional, full, strict=True)])
    rows += [
        row(
            "list 304 (If-None-Match) req/s",
            "req/s",
            over_repeats(conditional, "rps"),
            baseline=over_repeats(full, "rps"),
            ratio=speedup,
            target=f">= {TARGET_304_RATIO:g}x the full 50-task list",
            met=speedup["median"] >= TARGET_304_RATIO,
        ),
        row(
            "list 304 p99",
            "ms",
            over_repeats(conditional, "p99_ms"),
            baseline=over_repeats(full, "p99_ms"),
            ratio=spread(
                [ratio(c["p99_ms"], f["p99_ms"]) for c, f in zip(conditional, full, strict=True)]
            ),
        ),
    ]
    failed = spread(
        [float(sum(phase["failed"] for phase in repeat.values())) for repeat in repeats]
    )
    rows.append(row("failed requests", "", failed, target="0", met=failed["max"] == 0))
    return {
        "title": f"API throughput at {ctx.mode.p2_clients} concurrent clients",
        "rows": rows,
        "figures": {},
        "setup": {
            "clients": ctx.mode.p2_clients,
            "seconds_per_phase": ctx.mode.p2_seconds,
            "list_team_tasks": LIST_TASKS,
            "page_sizes": list(PAGE_SIZES),
            "repeats": len(repeats),
        },
        "raw": repeats,
    }
