"""P2 API throughput: task create and task list at 16 concurrent clients.

Closed loop: 16 keep-alive connections, each sending its next request when the last one was
answered, for a fixed time after a short warm-up. `POST /api/v1/tasks/` goes through JWT auth,
validation, the activity row and the outbox (no assignee, so no notification or email);
`GET /api/v1/tasks/?team=` lists a team of 500 tasks (first page). Baseline in the same run,
on the same gunicorn command and settings: `bench/baseline_django`, a plain Django view writing
the same task row. The three phases alternate within each repeat.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import uvloop

from bench import services
from bench.context import HOST, Context
from bench.database import access_token, close_django_connections, make_team, make_users
from bench.httpclient import LoadResult, Request, closed_loop
from bench.report import row
from bench.stats import latency_summary, over_repeats, ratio, spread

TARGET_CREATE_RATIO = 0.8
TARGET_P99_MS = 30.0
LIST_TASKS = 500


def _seed(ctx: Context) -> dict[str, Any]:
    from taskflow_core.tasks.models import Task

    users = make_users("p2u", ctx.mode.p2_clients)
    team = make_team("p2 create team", users[0], users)
    list_team = make_team("p2 list team", users[0], users)
    Task.objects.bulk_create(
        [
            Task(team=list_team, title=f"listed {index}", created_by=users[index % len(users)])
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


async def _measure(ctx: Context, seed: dict[str, Any], api: int, plain: int) -> list[Any]:
    mode = ctx.mode
    tokens, users = seed["tokens"], seed["users"]
    clients = mode.p2_clients

    def create(index: int) -> Request:
        body = {"team": seed["team"], "title": f"P2 task {index}", "priority": "high"}
        return Request("POST", "/api/v1/tasks/", body, ctx.bearer(tokens[index % clients]))

    def plain_create(index: int) -> Request:
        body = {"team": seed["team"], "title": f"P2 task {index}", "created_by": users[0]}
        return Request("POST", "/bench/tasks/", body)

    def listing(index: int) -> Request:
        path = f"/api/v1/tasks/?team={seed['list_team']}"
        return Request("GET", path, None, ctx.bearer(tokens[index % clients]))

    repeats = []
    for repeat in range(mode.repeats):
        seconds = mode.p2_seconds
        baseline = _summary(await closed_loop(HOST, plain, plain_create, clients, seconds), 201)
        created = _summary(await closed_loop(HOST, api, create, clients, seconds), 201)
        listed = _summary(await closed_loop(HOST, api, listing, clients, seconds), 200)
        ctx.log(
            f"P2 repeat {repeat + 1}: create {created['rps']:.0f} req/s p99"
            f" {created['p99_ms']:.1f} ms; plain {baseline['rps']:.0f} req/s p99"
            f" {baseline['p99_ms']:.1f} ms; list {listed['rps']:.0f} req/s p99"
            f" {listed['p99_ms']:.1f} ms"
        )
        repeats.append({"subject": created, "baseline": baseline, "list": listed})
    return repeats


def run(ctx: Context) -> dict[str, Any]:
    seed = _seed(ctx)
    close_django_connections()
    with ExitStack() as stack:
        core = services.core_api(ctx.env)
        stack.callback(core.stop)
        plain = services.core_api(
            ctx.env, name="core-plain-django", settings="bench.baseline_django.settings"
        )
        stack.callback(plain.stop)
        relay = services.relay(ctx.env)
        stack.callback(relay.stop)
        repeats = uvloop.run(_measure(ctx, seed, core.port or 0, plain.port or 0))
    return summarise(ctx, repeats)


def summarise(ctx: Context, repeats: list[dict[str, Any]]) -> dict[str, Any]:
    created = [repeat["subject"] for repeat in repeats]
    plain = [repeat["baseline"] for repeat in repeats]
    listed = [repeat["list"] for repeat in repeats]
    pairs = list(zip(created, plain, strict=True))
    rps_ratio = spread([ratio(c["rps"], p["rps"]) for c, p in pairs])
    p99_ratio = spread([ratio(c["p99_ms"], p["p99_ms"]) for c, p in pairs])
    create_p99 = over_repeats(created, "p99_ms")
    list_p99 = over_repeats(listed, "p99_ms")
    failed = spread(
        [float(c["failed"] + lst["failed"]) for c, lst in zip(created, listed, strict=True)]
    )
    return {
        "title": f"API throughput at {ctx.mode.p2_clients} concurrent clients",
        "rows": [
            row(
                "create req/s",
                "req/s",
                over_repeats(created, "rps"),
                baseline=over_repeats(plain, "rps"),
                ratio=rps_ratio,
                target=f">= {TARGET_CREATE_RATIO:g}x plain Django",
                met=rps_ratio["median"] >= TARGET_CREATE_RATIO,
            ),
            row(
                "create p99",
                "ms",
                create_p99,
                baseline=over_repeats(plain, "p99_ms"),
                ratio=p99_ratio,
                target=f"≤ {TARGET_P99_MS:g} ms",
                met=create_p99["median"] <= TARGET_P99_MS,
            ),
            row(
                "create p50",
                "ms",
                over_repeats(created, "p50_ms"),
                baseline=over_repeats(plain, "p50_ms"),
            ),
            row("list req/s", "req/s", over_repeats(listed, "rps")),
            row(
                "list p99",
                "ms",
                list_p99,
                target=f"≤ {TARGET_P99_MS:g} ms",
                met=list_p99["median"] <= TARGET_P99_MS,
            ),
            row("failed requests", "", failed, target="0", met=failed["max"] == 0),
        ],
        "figures": {"list p50 ms": over_repeats(listed, "p50_ms")},
        "setup": {
            "clients": ctx.mode.p2_clients,
            "seconds_per_phase": ctx.mode.p2_seconds,
            "list_team_tasks": LIST_TASKS,
            "repeats": len(repeats),
        },
        "raw": repeats,
    }
