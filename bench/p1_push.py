"""P1 push latency: HTTP response → the assignee's socket has the event.

1,000 sockets are open (teams of 10); tasks are created through the API at 100/s, each
assigned to a member other than its creator. For every `201` the time its response arrived is
compared with the time the assignee's socket received that task's `task.created` (and, kept
alongside, its `notification.created`). Both clocks are this process's CLOCK_MONOTONIC. The
event usually beats the response (it is published on commit, before the response is written);
the raw, negative, latencies are kept, and the figure held against the target counts such an
event as 0 ("the assignee had it by the time the writer knew it was saved").

Two views independent of the response, on the wall clock all processes share: the event's
`occurred_at` (stamped by the core inside the writing transaction, before the rest of the
request's writes and the commit) → the socket; and the Redis stream id's millisecond clock
(the moment of XADD, i.e. the push path proper: Redis → realtime → socket; ids are truncated
to the millisecond, so this view reads up to 1 ms high) → the socket.

Baseline, in the same run and the same process: raw Redis PUBLISH → SUBSCRIBE at the same rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
import uvloop

from bench import services
from bench.context import HOST, Context
from bench.database import access_token, close_django_connections, make_team, make_users
from bench.httpclient import Request, Response, open_loop
from bench.report import row
from bench.stats import latency_summary, over_repeats, ratio, spread
from bench.wsclient import WsClient, open_many

TARGET_P99_MS = 5.0
TARGET_RATIO = 15.0


def _seed(ctx: Context) -> tuple[list[tuple[int, list[int]]], dict[int, str]]:
    mode = ctx.mode
    users = make_users("p1u", mode.p1_sockets)
    teams: list[tuple[int, list[int]]] = []
    for start in range(0, len(users), mode.p1_team_size):
        members = users[start : start + mode.p1_team_size]
        team = make_team(f"p1 team {start // mode.p1_team_size}", members[0], members)
        teams.append((team.pk, [user.pk for user in members]))
    tokens = {user.pk: access_token(user) for user in users}
    return teams, tokens


async def redis_baseline(url: str, rate: float, seconds: float) -> list[float]:
    """PUBLISH at `rate`/s; latency = subscriber received - just before PUBLISH was sent."""
    channel = f"bench:p1:{os.getpid()}"
    subscriber = aioredis.Redis.from_url(url)
    publisher = aioredis.Redis.from_url(url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe(channel)
    received: dict[int, float] = {}

    async def read() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                received[int(message["data"])] = time.monotonic()

    reader = asyncio.create_task(read())
    await publisher.ping()
    sent: dict[int, float] = {}
    begin = time.monotonic()
    for index in range(int(rate * seconds)):
        delay = begin + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[index] = time.monotonic()
        await publisher.publish(channel, str(index))
    await asyncio.sleep(0.5)  # the last messages are well within this
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
    await subscriber.aclose()
    await publisher.aclose()
    return [received[index] - sent[index] for index in sent if index in received]


def _event_key(message: dict[str, Any]) -> tuple[str, int] | None:
    if message.get("type") != "event":
        return None
    data = message.get("data") or {}
    if message.get("event") == "task.created":
        return "task", int(data["task"]["id"])
    if message.get("event") == "notification.created":
        task = (data.get("notification") or {}).get("task")
        if isinstance(task, dict):
            task = task.get("id")
        return ("notification", int(task)) if task is not None else None
    return None


class PushPhase:
    """One repeat of the API side: writes at `rate`, then match responses with arrivals."""

    def __init__(
        self,
        ctx: Context,
        api_port: int,
        teams: list[tuple[int, list[int]]],
        tokens: dict[int, str],
    ) -> None:
        self.ctx, self.api_port, self.teams, self.tokens = ctx, api_port, teams, tokens
        self.arrivals: list[tuple[float, int, bytes]] = []
        self.created: dict[int, tuple[int, float]] = {}  # task id -> (assignee, response at)
        self.statuses: dict[int, int] = {}
        self.wall_offset = 0.0

    def on_message(self, client: WsClient, now: float, raw: bytes) -> None:
        self.arrivals.append((now, client.user_id or 0, raw))

    def _assignment(self, index: int) -> tuple[int, int, int]:
        team_id, members = self.teams[index % len(self.teams)]
        others = members[1:]
        return team_id, members[0], others[(index // len(self.teams)) % len(others)]

    def make(self, repeat: int) -> Any:
        def request(index: int) -> Request:
            team_id, actor, assignee = self._assignment(index)
            body = {"team": team_id, "title": f"P1 {repeat}-{index}", "assignee": assignee}
            return Request("POST", "/api/v1/tasks/", body, self.ctx.bearer(self.tokens[actor]))

        return request

    def on_response(self, index: int, response: Response) -> None:
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if response.status == 201:
            _, _, assignee = self._assignment(index)
            self.created[int(response.json()["id"])] = (assignee, response.received_at)

    async def run(self, repeat: int) -> dict[str, Any]:
        mode = self.ctx.mode
        self.arrivals.clear()
        self.created.clear()
        self.statuses.clear()
        self.wall_offset = time.time() - time.monotonic()
        load = await open_loop(
            HOST,
            self.api_port,
            self.make(repeat),
            mode.p1_rate,
            mode.p1_seconds,
            on_response=self.on_response,
        )
        await asyncio.sleep(1.5)  # let the last events arrive
        first_seen: dict[tuple[str, int, int], float] = {}
        from_write: list[float] = []
        from_publish: list[float] = []
        for now, user, raw in self.arrivals:
            message = json.loads(raw)
            key = _event_key(message)
            if key is not None and (key[0], key[1], user) not in first_seen:
                first_seen[(key[0], key[1], user)] = now
                if key[0] == "task" and self.created.get(key[1], (None,))[0] == user:
                    occurred = datetime.fromisoformat(message["occurred_at"]).timestamp()
                    from_write.append(now + self.wall_offset - occurred)
                    published_ms = str(message.get("id", "")).split("-")[0]
                    if published_ms.isdigit():
                        from_publish.append(now + self.wall_offset - int(published_ms) / 1000)
        task_latencies: list[float] = []
        notification_latencies: list[float] = []
        missing = 0
        for task_id, (assignee, responded) in self.created.items():
            seen = first_seen.get(("task", task_id, assignee))
            if seen is None:
                missing += 1
            else:
                task_latencies.append(seen - responded)
            noted = first_seen.get(("notification", task_id, assignee))
            if noted is not None:
                notification_latencies.append(noted - responded)
        api = [response.latency for response in load.ok(201)]
        return {
            "writes": len(load.responses),
            "statuses": {str(code): count for code, count in self.statuses.items()},
            "errors": load.errors[:5],
            "missing_events": missing,
            "frames_received": len(self.arrivals),
            "latencies_s": task_latencies,
            "write_latencies_s": from_write,
            "before_response_share": sum(1 for value in task_latencies if value < 0)
            / max(len(task_latencies), 1),
            "clamped": latency_summary([max(value, 0.0) for value in task_latencies]),
            "write": latency_summary(from_write),
            "publish_latencies_s": from_publish,
            "publish": latency_summary(from_publish),
            "notification_latencies_s": notification_latencies,
            "api_latency": latency_summary(api),
            **latency_summary(task_latencies),
            "notification_p99_ms": latency_summary(notification_latencies)["p99_ms"],
        }


async def _measure(
    ctx: Context,
    api_port: int,
    realtime_port: int,
    teams: list[tuple[int, list[int]]],
    tokens: dict[int, str],
) -> dict[str, Any]:
    ctx.log(f"P1: opening {len(tokens)} sockets")
    clients, errors = await open_many(HOST, realtime_port, list(tokens.values()))
    if errors:
        ctx.log(f"P1: {len(errors)} sockets failed to open, e.g. {errors[0]}")
    phase = PushPhase(ctx, api_port, teams, tokens)
    for client in clients:
        client.messages.clear()
        client.on_message = phase.on_message
    repeats: list[dict[str, Any]] = []
    for repeat in range(ctx.mode.repeats):
        baseline = latency_summary(
            raw_baseline := await redis_baseline(
                ctx.redis_url, ctx.mode.p1_rate, ctx.mode.p1_seconds
            )
        )
        baseline["latencies_s"] = raw_baseline  # type: ignore[assignment]
        subject = await phase.run(repeat)
        ctx.log(
            f"P1 repeat {repeat + 1}: response->socket p50 {subject['p50_ms']:.2f} ms p99"
            f" {subject['p99_ms']:.2f} ms ({subject['before_response_share']:.0%} before the"
            f" response); write->socket p50 {subject['write']['p50_ms']:.2f} ms p99"
            f" {subject['write']['p99_ms']:.2f} ms; publish->socket p50"
            f" {subject['publish']['p50_ms']:.2f} ms p99 {subject['publish']['p99_ms']:.2f} ms;"
            f" missing {subject['missing_events']};"
            f" redis p99 {baseline['p99_ms']:.3f} ms; api p99"
            f" {subject['api_latency']['p99_ms']:.1f} ms"
        )
        repeats.append({"subject": subject, "baseline": baseline})
    dropped = sum(1 for client in clients if not client.is_open)
    for client in clients:
        client.close()
    return {
        "sockets_open": len(clients),
        "socket_errors": errors[:5],
        "dropped": dropped,
        "repeats": repeats,
    }


def run(ctx: Context) -> dict[str, Any]:
    teams, tokens = _seed(ctx)
    close_django_connections()
    with ExitStack() as stack:
        core, realtime = services.push_path(stack, ctx.env)
        measured = uvloop.run(_measure(ctx, core.port or 0, realtime.port or 0, teams, tokens))
    services.celery_purge(ctx.env)  # assignment emails nobody will send
    return summarise(measured)


def summarise(measured: dict[str, Any]) -> dict[str, Any]:
    repeats = measured["repeats"]
    subject = [repeat["subject"] for repeat in repeats]
    baseline = [repeat["baseline"] for repeat in repeats]
    pairs = list(zip(subject, baseline, strict=True))

    def nested(view: str, key: str) -> dict[str, float]:
        return spread([s[view][key] for s in subject])

    def ratios(view: str | None, key: str) -> dict[str, float]:
        return spread([ratio((s[view] if view else s)[key], b[key]) for s, b in pairs])

    clamped_p99, p99_ratio = nested("clamped", "p99_ms"), ratios("clamped", "p99_ms")
    base_p50, base_p99 = over_repeats(baseline, "p50_ms"), over_repeats(baseline, "p99_ms")
    missing = spread([float(s["missing_events"]) for s in subject])
    publish_p99, publish_ratio = nested("publish", "p99_ms"), ratios("publish", "p99_ms")
    return {
        "title": "push latency, HTTP response → assignee's socket",
        "rows": [
            row(
                "p99 response → socket (an event there first counts 0)",
                "ms",
                clamped_p99,
                baseline=base_p99,
                ratio=p99_ratio,
                target=f"≤ {TARGET_P99_MS:g} ms",
                met=clamped_p99["median"] <= TARGET_P99_MS,
            ),
            row(
                "p99 response → socket ÷ Redis p99",
                "x",
                p99_ratio,
                target=f"≤ {TARGET_RATIO:g}x",
                met=p99_ratio["median"] <= TARGET_RATIO,
            ),
            row(
                "p50 write (occurred_at) → socket",
                "ms",
                nested("write", "p50_ms"),
                baseline=base_p50,
                ratio=ratios("write", "p50_ms"),
            ),
            row(
                "p99 write (occurred_at) → socket",
                "ms",
                nested("write", "p99_ms"),
                baseline=base_p99,
                ratio=ratios("write", "p99_ms"),
            ),
            row(
                "p50 publish (stream id) → socket",
                "ms",
                nested("publish", "p50_ms"),
                baseline=base_p50,
                ratio=ratios("publish", "p50_ms"),
            ),
            row(
                "p99 publish (stream id) → socket (stricter view)",
                "ms",
                publish_p99,
                baseline=base_p99,
                ratio=publish_ratio,
                target=f"≤ {TARGET_P99_MS:g} ms and ≤ {TARGET_RATIO:g}x",
                met=publish_p99["median"] <= TARGET_P99_MS
                and publish_ratio["median"] <= TARGET_RATIO,
            ),
            row("events missing", "", missing, target="0", met=missing["max"] == 0),
        ],
        "figures": {
            "raw response → socket p50 ms (negative: event first)": over_repeats(subject, "p50_ms"),
            "raw response → socket p99 ms": over_repeats(subject, "p99_ms"),
            "share of events before the response": over_repeats(subject, "before_response_share"),
            "notification.created p99 ms (raw)": over_repeats(subject, "notification_p99_ms"),
            "API p99 ms (POST /api/v1/tasks/)": spread(
                [s["api_latency"]["p99_ms"] for s in subject]
            ),
        },
        "setup": {key: value for key, value in measured.items() if key != "repeats"}
        | {"repeats": len(repeats)},
        "raw": repeats,
    }
