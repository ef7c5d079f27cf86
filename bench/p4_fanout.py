"""P4 fan-out: one team event to 5,000 members' sockets.

A team of 5,000 members, every member with an open socket (held by this process with the light
client of `bench/wsclient.py`, which only timestamps frames). Single events: a task is created
through the API (no assignee, so each member gets exactly one frame, `task.created`), and the
time from the HTTP response to the *last* member's socket receiving it is taken; repeated
`p4_single_events` times, p99 over those. Burst: `p4_burst` tasks created back to back
(8 in flight); deliveries/s = all frames ÷ (last frame - first request sent).

Baseline in the same run: the bare relay (`bench/bare_ws.py` with `BARE_RELAY_CHANNEL`), the
same number of sockets, the same frame (a real `task.created` frame captured from the run)
PUBLISHed to Redis; single-event time counts from PUBLISH's reply, the burst from the first
PUBLISH. The two servers take turns within each repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from typing import Any

import redis.asyncio as aioredis
import uvloop

from bench import services
from bench.context import HOST, Context
from bench.database import access_token, close_django_connections, make_team, make_users
from bench.httpclient import HttpConnection, Request
from bench.report import row
from bench.stats import over_repeats, percentile, ratio, spread
from bench.wsclient import WsClient, open_many

TARGET_P99_MS = 250.0
TARGET_RATE = 50_000.0
TARGET_RATIO = 0.8
CHANNEL = "bench:p4"
SETTLE_SECONDS = 10.0


def _seed(ctx: Context) -> tuple[int, list[str], str]:
    users = make_users("p4u", ctx.mode.p4_members)
    team = make_team("p4 big team", users[0], users)
    tokens = [access_token(user) for user in users]
    return team.pk, tokens, tokens[0]


class Receivers:
    """The sockets of one server; per socket, the arrival time of each frame after `ready`."""

    def __init__(self, clients: list[WsClient]) -> None:
        self.clients = clients
        self.arrivals: dict[int, list[float]] = {id(client): [] for client in clients}
        self.samples: list[bytes] = []
        self.count = 0
        self.expected = 0
        self.enough = asyncio.Event()
        for client in clients:
            client.messages.clear()
            client.on_message = self._on_message

    def _on_message(self, client: WsClient, now: float, raw: bytes) -> None:
        self.arrivals[id(client)].append(now)
        self.count += 1
        if self.count >= self.expected:
            self.enough.set()
        if len(self.samples) < 3:
            self.samples.append(raw)

    def frames(self) -> int:
        return self.count

    def reset(self) -> None:
        for times in self.arrivals.values():
            times.clear()
        self.samples.clear()
        self.count = 0

    async def wait_frames(self, expected: int, limit: float = SETTLE_SECONDS) -> None:
        self.expected = expected
        self.enough.clear()
        if self.count < expected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.enough.wait(), limit)

    def last_arrival(self, index: int) -> float | None:
        """When the last socket got its `index`-th frame (None if some socket never did)."""
        latest = 0.0
        for times in self.arrivals.values():
            if len(times) <= index:
                return None
            latest = max(latest, times[index])
        return latest

    def close(self) -> None:
        for client in self.clients:
            client.close()


Send = Callable[[int], Awaitable[tuple[float, float]]]  # -> (sent at, acknowledged at)


async def _phase(ctx: Context, receivers: Receivers, send: Send, label: str) -> dict[str, Any]:
    """Single events one at a time, then a burst; the same shape for both servers."""
    receivers.reset()
    sockets = len(receivers.clients)
    delays: list[float] = []
    lost = 0
    for index in range(ctx.mode.p4_single_events):
        _, acknowledged = await send(index)
        await receivers.wait_frames(sockets * (index + 1))
        last = receivers.last_arrival(index)
        if last is None:
            lost += 1
            continue
        delays.append(last - acknowledged)
    single_frames = receivers.frames()
    sample = receivers.samples[0] if receivers.samples else b""
    receivers.reset()
    burst = ctx.mode.p4_burst
    gate = asyncio.Semaphore(8)

    async def gated(index: int) -> tuple[float, float]:
        async with gate:
            return await send(10_000 + index)

    started = time.monotonic()
    await asyncio.gather(*(gated(index) for index in range(burst)))
    await receivers.wait_frames(sockets * burst, limit=SETTLE_SECONDS + burst)
    arrivals = [t for times in receivers.arrivals.values() for t in times]
    burst_frames = len(arrivals)
    finished = max(arrivals) if arrivals else started
    first = min(arrivals) if arrivals else started
    rate = burst_frames / (finished - started) if finished > started else 0.0
    # The same burst counted from its first delivery: what is left once the first event exists
    # (for the realtime service, the API's time to create the first task is taken out).
    delivery_rate = burst_frames / (finished - first) if finished > first else 0.0
    dropped = sum(1 for client in receivers.clients if not client.is_open)
    ms = [delay * 1000 for delay in delays]
    result = {
        "sockets": sockets,
        "single_events": ctx.mode.p4_single_events,
        "single_lost": lost,
        "single_frames": single_frames,
        "last_delivery_ms": ms,
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "burst_events": burst,
        "burst_frames": burst_frames,
        "burst_frames_expected": sockets * burst,
        "burst_seconds": finished - started,
        "deliveries_per_s": rate,
        "first_delivery_after_ms": (first - started) * 1000,
        "deliveries_per_s_from_first": delivery_rate,
        "sockets_dropped": dropped,
    }
    ctx.log(
        f"P4 {label}: last delivery p50 {result['p50_ms']:.1f} ms p99 {result['p99_ms']:.1f} ms;"
        f" burst {rate:,.0f} deliveries/s ({burst_frames}/{sockets * burst} frames);"
        f" dropped {dropped}"
    )
    result["sample_frame"] = sample.decode(errors="replace")[:2000]
    return result


async def _measure(
    ctx: Context, team_id: int, tokens: list[str], actor_token: str, api: int, rt: int, bare: int
) -> list[dict[str, Any]]:
    connection = HttpConnection(HOST, api)
    publisher = aioredis.Redis.from_url(ctx.redis_url)
    frame = b""
    repeats = []

    async def api_send(index: int) -> tuple[float, float]:
        request = Request(
            "POST",
            "/api/v1/tasks/",
            {"team": team_id, "title": f"P4 {index}"},
            ctx.bearer(actor_token),
        )
        own = HttpConnection(HOST, api) if index >= 10_000 else connection
        try:
            response = await own.request(request)
        finally:
            if own is not connection:
                own.close()
        if response.status != 201:
            raise RuntimeError(f"create answered {response.status}: {response.body[:200]!r}")
        return response.sent_at, response.received_at

    async def bare_send(index: int) -> tuple[float, float]:
        sent = time.monotonic()
        await publisher.publish(CHANNEL, frame)
        return sent, time.monotonic()

    for repeat in range(ctx.mode.repeats):
        ctx.log(f"P4 repeat {repeat + 1}: opening {len(tokens)} sockets on the realtime service")
        clients, errors = await open_many(HOST, rt, tokens)
        subject = await _phase(ctx, Receivers(clients), api_send, "realtime")
        subject["open_errors"] = len(errors)
        for client in clients:
            client.close()
        frame = subject["sample_frame"].encode() or json.dumps({"type": "event"}).encode()
        ctx.log(f"P4 repeat {repeat + 1}: opening {len(tokens)} sockets on the bare relay")
        clients, errors = await open_many(HOST, bare, tokens)
        await asyncio.sleep(0.5)
        baseline = await _phase(ctx, Receivers(clients), bare_send, "bare relay")
        baseline["open_errors"] = len(errors)
        for client in clients:
            client.close()
        await asyncio.sleep(1.0)
        repeats.append({"subject": subject, "baseline": baseline})
    connection.close()
    await publisher.aclose()
    return repeats


def run(ctx: Context) -> dict[str, Any]:
    team_id, tokens, actor_token = _seed(ctx)
    close_django_connections()
    with ExitStack() as stack:
        core, realtime = services.push_path(stack, ctx.env)
        bare = services.bare_socket_server(ctx.env, relay_channel=CHANNEL)
        stack.callback(bare.stop)
        repeats = uvloop.run(
            _measure(
                ctx,
                team_id,
                tokens,
                actor_token,
                core.port or 0,
                realtime.port or 0,
                bare.port or 0,
            )
        )
    return summarise(ctx, repeats)


def summarise(ctx: Context, repeats: list[dict[str, Any]]) -> dict[str, Any]:
    subject = [repeat["subject"] for repeat in repeats]
    baseline = [repeat["baseline"] for repeat in repeats]
    pairs = list(zip(subject, baseline, strict=True))
    p99 = over_repeats(subject, "p99_ms")
    rate = over_repeats(subject, "deliveries_per_s")
    rate_ratio = spread([ratio(s["deliveries_per_s"], b["deliveries_per_s"]) for s, b in pairs])
    lost = spread(
        [float(s["single_lost"] + s["burst_frames_expected"] - s["burst_frames"]) for s in subject]
    )
    return {
        "title": f"fan-out of one team event to {ctx.mode.p4_members:,} members' sockets",
        "rows": [
            row(
                "time to last delivery, p99",
                "ms",
                p99,
                baseline=over_repeats(baseline, "p99_ms"),
                ratio=spread([ratio(s["p99_ms"], b["p99_ms"]) for s, b in pairs]),
                target=f"≤ {TARGET_P99_MS:g} ms",
                met=p99["median"] <= TARGET_P99_MS,
            ),
            row(
                "deliveries/s in a burst",
                "/s",
                rate,
                baseline=over_repeats(baseline, "deliveries_per_s"),
                ratio=rate_ratio,
                target=f">= {TARGET_RATE:,.0f}/s and >= {TARGET_RATIO:g}x bare",
                met=rate["median"] >= TARGET_RATE and rate_ratio["median"] >= TARGET_RATIO,
            ),
            row("frames lost", "", lost, target="0", met=lost["max"] == 0),
        ],
        "figures": {
            "time to last delivery, p50 ms": over_repeats(subject, "p50_ms"),
            "bare relay: time to last delivery, p50 ms": over_repeats(baseline, "p50_ms"),
            "burst: first delivery after (ms)": over_repeats(subject, "first_delivery_after_ms"),
            "bare relay burst: first delivery after (ms)": over_repeats(
                baseline, "first_delivery_after_ms"
            ),
            "burst deliveries/s counted from the first delivery": over_repeats(
                subject, "deliveries_per_s_from_first"
            ),
            "bare relay, the same": over_repeats(baseline, "deliveries_per_s_from_first"),
        },
        "setup": {
            "members": ctx.mode.p4_members,
            "single_events": ctx.mode.p4_single_events,
            "burst": ctx.mode.p4_burst,
            "repeats": len(repeats),
        },
        "raw": repeats,
    }
