"""P9 open-loop writes: assigned task creates at a steady rate, and the highest steady rate.

A team of 20 members, each with a socket open on the realtime service (so every create also
births a notification, its email job and two events, delivered to 20 sockets); tasks are
created at a steady rate, each by one member and assigned to another. Latency is each
create's own (request scheduled → response), counted from the request's scheduled time, so a
server that falls behind cannot hide its queue. First 50 creates/s, held against p99 ≤ 50 ms;
then rising steady rates, each for a few seconds, until the p99 passes 100 ms: the highest rate
that stayed within is the sustainable write rate. Baseline in the same run, on the same
gunicorn command: the plain Django create (`bench/baseline_django`) at the same rising rates.
The core, relay, realtime service and a Celery worker run as `make run` starts them; the
measurements start once the worker is ready and after a short warm-up at the steady rate.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from typing import Any

import uvloop

from bench import services
from bench.context import HOST, Context
from bench.database import access_token, close_django_connections, make_team, make_users
from bench.httpclient import LoadResult, MakeRequest, Request, open_loop
from bench.report import row
from bench.stats import latency_summary, over_repeats, ratio, spread
from bench.wsclient import open_many

TEAM_SIZE = 20
STEADY_RATE = 50.0
TARGET_STEADY_P99_MS = 50.0
SUSTAINABLE_P99_MS = 100.0
WARMUP_SECONDS = 2.0


def _seed(ctx: Context) -> dict[str, Any]:
    users = make_users("p9u", TEAM_SIZE)
    team = make_team("p9 team", users[0], users)
    return {
        "team": team.pk,
        "users": [user.pk for user in users],
        "tokens": [access_token(user) for user in users],
    }


def _summary(load: LoadResult, rate: float) -> dict[str, Any]:
    ok = load.ok(201)
    return {
        "rate": rate,
        "requests": len(load.responses),
        "failed": len(load.responses) - len(ok) + len(load.errors),
        "errors": load.errors[:3],
        **latency_summary([response.latency for response in ok]),
    }


async def _highest_rate(
    ctx: Context, port: int, make: MakeRequest, rates: tuple[float, ...]
) -> dict[str, Any]:
    """The highest of `rates` (tried in order, stopping at the first miss) held at p99 ≤ 100 ms."""
    steps: list[dict[str, Any]] = []
    best = 0.0
    for rate in rates:
        step = _summary(await open_loop(HOST, port, make, rate, ctx.mode.p9_step_seconds), rate)
        steps.append(step)
        if step["failed"] or not step["p99_ms"] <= SUSTAINABLE_P99_MS:
            break
        best = rate
        await asyncio.sleep(0.5)
    return {"highest_rate": best, "steps": steps}


async def _measure(ctx: Context, seed: dict[str, Any], api: int, plain: int, rt: int) -> Any:
    mode = ctx.mode
    users, tokens = seed["users"], seed["tokens"]
    clients, errors = await open_many(HOST, rt, tokens)
    if errors:
        raise RuntimeError(f"{len(errors)} sockets failed to open, e.g. {errors[0]}")
    frames = 0

    def count(*_: Any) -> None:
        nonlocal frames
        frames += 1

    for client in clients:
        client.on_message = count

    def create(index: int) -> Request:
        actor = index % TEAM_SIZE
        assignee = users[(actor + 1 + index // TEAM_SIZE % (TEAM_SIZE - 1)) % TEAM_SIZE]
        body = {"team": seed["team"], "title": f"P9 {index}", "assignee": assignee}
        return Request("POST", "/api/v1/tasks/", body, ctx.bearer(tokens[actor]))

    def plain_create(index: int) -> Request:
        body = {"team": seed["team"], "title": f"P9 {index}", "created_by": users[0]}
        return Request("POST", "/bench/tasks/", body)

    repeats = []
    try:
        # Warm-up, not recorded: the first creates open each thread's database connection
        # and load what a process loads on first use.
        await open_loop(HOST, api, create, STEADY_RATE, WARMUP_SECONDS)
        await open_loop(HOST, plain, plain_create, STEADY_RATE, WARMUP_SECONDS)
        for repeat in range(mode.repeats):
            steady = _summary(
                await open_loop(HOST, api, create, STEADY_RATE, mode.p9_seconds), STEADY_RATE
            )
            subject = await _highest_rate(ctx, api, create, mode.p9_rates)
            baseline = await _highest_rate(ctx, plain, plain_create, mode.p9_plain_rates)
            ctx.log(
                f"P9 repeat {repeat + 1}: {STEADY_RATE:g}/s p50 {steady['p50_ms']:.1f} ms p99"
                f" {steady['p99_ms']:.1f} ms; highest rate with p99 <= 100 ms:"
                f" {subject['highest_rate']:g}/s (plain Django {baseline['highest_rate']:g}/s)"
            )
            repeats.append({"steady": steady, "subject": subject, "baseline": baseline})
    finally:
        dropped = sum(1 for client in clients if not client.is_open)
        for client in clients:
            client.close()
    return {"repeats": repeats, "frames": frames, "dropped": dropped}


def run(ctx: Context) -> dict[str, Any]:
    seed = _seed(ctx)
    close_django_connections()
    with ExitStack() as stack:
        core, plain = services.api_beside_plain_django(stack, ctx.env)
        worker = services.celery_worker(ctx.env)
        stack.callback(worker.stop)
        realtime = services.realtime(ctx.env)
        stack.callback(realtime.stop)
        services.wait_healthy(f"http://{HOST}:{realtime.port}/health")
        measured = uvloop.run(
            _measure(ctx, seed, core.port or 0, plain.port or 0, realtime.port or 0)
        )
    services.celery_purge(ctx.env)
    return summarise(ctx, measured)


def summarise(ctx: Context, measured: dict[str, Any]) -> dict[str, Any]:
    repeats = measured["repeats"]
    steady = [repeat["steady"] for repeat in repeats]
    steady_p99 = over_repeats(steady, "p99_ms")
    highest = spread([repeat["subject"]["highest_rate"] for repeat in repeats])
    plain = spread([repeat["baseline"]["highest_rate"] for repeat in repeats])
    failed = spread([float(step["failed"]) for step in steady])
    return {
        "title": f"open-loop assigned creates, {TEAM_SIZE} members with sockets open",
        "rows": [
            row(
                f"create p99 at {STEADY_RATE:g}/s",
                "ms",
                steady_p99,
                target=f"≤ {TARGET_STEADY_P99_MS:g} ms",
                met=steady_p99["median"] <= TARGET_STEADY_P99_MS,
            ),
            row(f"create p50 at {STEADY_RATE:g}/s", "ms", over_repeats(steady, "p50_ms")),
            row(
                "highest steady rate with p99 ≤ 100 ms",
                "/s",
                highest,
                baseline=plain,
                ratio=spread(
                    [
                        ratio(r["subject"]["highest_rate"], r["baseline"]["highest_rate"])
                        for r in repeats
                    ]
                ),
                target="recorded",
            ),
            row("failed requests at 50/s", "", failed, target="0", met=failed["max"] == 0),
        ],
        "figures": {},
        "setup": {
            "team_size": TEAM_SIZE,
            "sockets_dropped": measured["dropped"],
            "frames_received": measured["frames"],
            "steady_seconds": ctx.mode.p9_seconds,
            "step_seconds": ctx.mode.p9_step_seconds,
            "rates": list(ctx.mode.p9_rates),
            "plain_rates": list(ctx.mode.p9_plain_rates),
            "repeats": len(repeats),
        },
        "raw": repeats,
    }
