"""P5 slow work off the request path: API p99 with an SMTP server taking 2 s per message.

The core (gunicorn) and a real Celery worker (the commands `make run` uses) send email to an
aiosmtpd server on 127.0.0.1 (`bench/smtp_sink.py`). Tasks are created at a fixed rate (open
loop, latency counted from each request's scheduled time), each assigned to another member, so
every request queues an assignment email. Phases alternate within each repeat (their order
flips every repeat): the SMTP server answers instantly, or after 2 s per message. Each phase
gets a fresh worker (started before, stopped after) and the queues are purged between phases,
so that one phase's backlog or retries do not run during the next. The ratio is
p99 with the slow server ÷ p99 with the instant one, per repeat.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

import uvloop

from bench import services
from bench.context import HOST, Context
from bench.database import access_token, close_django_connections, make_team, make_users
from bench.httpclient import Request, open_loop
from bench.processes import LOG_DIR
from bench.report import row
from bench.stats import latency_summary, over_repeats, ratio, spread
from taskflow_local.processes import free_port

TARGET_RATIO = 1.1
MEMBERS = 20


def _seed(ctx: Context) -> tuple[int, list[int], list[str]]:
    users = make_users("p5u", MEMBERS)
    team = make_team("p5 team", users[0], users)
    return team.pk, [user.pk for user in users], [access_token(user) for user in users]


def _phase(
    ctx: Context, api: int, team: int, users: list[int], tokens: list[str], tag: str
) -> dict[str, Any]:
    def create(index: int) -> Request:
        actor = index % len(users)
        assignee = (actor + 1 + index // len(users)) % len(users)
        assignee = assignee if assignee != actor else (actor + 1) % len(users)
        body = {"team": team, "title": f"P5 {tag} {index}", "assignee": users[assignee]}
        return Request("POST", "/api/v1/tasks/", body, ctx.bearer(tokens[actor]))

    load = uvloop.run(open_loop(HOST, api, create, ctx.mode.p5_rate, ctx.mode.p5_seconds))
    ok = load.ok(201)
    return {
        "requests": len(load.responses),
        "failed": len(load.responses) - len(ok) + len(load.errors),
        **latency_summary([response.latency for response in ok]),
    }


def _phase_with_worker(
    ctx: Context,
    env: dict[str, str],
    api: int,
    smtp_port: int,
    delay: float,
    tag: str,
    seed: tuple[int, list[int], list[str]],
) -> dict[str, Any]:
    """One phase with its own SMTP server and a fresh worker, so that no retry or backlog of
    one phase (a worker keeps retries with a countdown in memory) runs during the next."""
    count_file = LOG_DIR / f"smtp-{tag}.count"
    services.celery_purge(env)  # messages a stopping worker handed back to the queue
    with ExitStack() as stack:
        sink = services.smtp_sink(smtp_port, delay, count_file, env)
        stack.callback(sink.stop)
        worker = services.celery_worker(env)
        stack.callback(worker.stop)
        worker.wait_for_output("ready.", timeout=60)
        team, users, tokens = seed
        phase = _phase(ctx, api, team, users, tokens, tag)
        time.sleep(1.0)  # the worker keeps sending meanwhile
    phase["emails_received"] = int(count_file.read_text() or 0)
    services.celery_purge(env)
    return phase


def run(ctx: Context) -> dict[str, Any]:
    seed = _seed(ctx)
    close_django_connections()
    smtp_port = free_port()
    env = ctx.env | {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)}
    repeats: list[dict[str, Any]] = []
    with ExitStack() as stack:
        core = services.core_api(env)
        stack.callback(core.stop)
        _phase_with_worker(ctx, env, core.port or 0, smtp_port, 0.0, "warm-up", seed)  # discarded
        for repeat in range(ctx.mode.repeats):
            delays = [0.0, ctx.mode.p5_slow_delay]
            if repeat % 2:
                delays.reverse()
            result: dict[str, Any] = {}
            for delay in delays:
                phase = _phase_with_worker(
                    ctx, env, core.port or 0, smtp_port, delay, f"{repeat}-{delay:g}", seed
                )
                result["baseline" if delay == 0 else "subject"] = phase
            ctx.log(
                f"P5 repeat {repeat + 1}: API p99 {result['subject']['p99_ms']:.1f} ms with slow"
                f" SMTP ({result['subject']['emails_received']} emails taken) vs"
                f" {result['baseline']['p99_ms']:.1f} ms with instant SMTP"
                f" ({result['baseline']['emails_received']} taken)"
            )
            repeats.append(result)
    return summarise(ctx, repeats)


def summarise(ctx: Context, repeats: list[dict[str, Any]]) -> dict[str, Any]:
    slow = [repeat["subject"] for repeat in repeats]
    instant = [repeat["baseline"] for repeat in repeats]
    pairs = list(zip(slow, instant, strict=True))
    p99_ratio = spread([ratio(s["p99_ms"], i["p99_ms"]) for s, i in pairs])
    failed = spread([float(s["failed"] + i["failed"]) for s, i in pairs])
    return {
        "title": f"API p99 with a {ctx.mode.p5_slow_delay:g} s-per-message SMTP server",
        "rows": [
            row(
                "create p99, slow SMTP (baseline: instant SMTP)",
                "ms",
                over_repeats(slow, "p99_ms"),
                baseline=over_repeats(instant, "p99_ms"),
                ratio=p99_ratio,
                target=f"≤ {TARGET_RATIO:g}x",
                met=p99_ratio["median"] <= TARGET_RATIO,
            ),
            row(
                "create p50, slow SMTP",
                "ms",
                over_repeats(slow, "p50_ms"),
                baseline=over_repeats(instant, "p50_ms"),
                ratio=spread([ratio(s["p50_ms"], i["p50_ms"]) for s, i in pairs]),
            ),
            row("failed requests", "", failed, target="0", met=failed["max"] == 0),
        ],
        "figures": {
            "emails taken by the slow server per phase": over_repeats(slow, "emails_received"),
            "emails taken by the instant server per phase": over_repeats(
                instant, "emails_received"
            ),
        },
        "setup": {
            "rate_per_s": ctx.mode.p5_rate,
            "seconds_per_phase": ctx.mode.p5_seconds,
            "slow_delay_s": ctx.mode.p5_slow_delay,
            "repeats": len(repeats),
        },
        "raw": repeats,
    }
