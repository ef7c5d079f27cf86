"""P7 abuse: the worst attacks on the realtime tier, each side by side with normal traffic.

Well-behaved clients (sockets in teams of 10) get tasks created through the API at a steady
rate, as in P1; their push latency (the Redis stream id's millisecond clock → their socket, the
push path proper) is measured first without any attack, then during each attack in turn:

- big frames: sockets that each start a 16 MiB "auth" frame, once a second each (refused
  from the frame header with 1009);
- stalled sockets: sockets of attacker users that authenticate and never read again, under a
  flood of large events addressed to them written straight into the stream (each is closed
  with 1013 once its send budget is spent); RSS is read again once they have gone;
- socket-cap flood: one user opening sockets as fast as it can (all but the cap get 4429),
  once through the gateway (nginx with the deployment's limits per client address in front, as
  deployed: most attempts get 429 there) and once straight at the realtime port, around it (what
  the realtime process itself pays per refused socket).

The realtime process's RSS is sampled from /proc every 100 ms throughout. Replay cost: after
the attacks, concurrent reconnects of a user whose only event after its `last_event_id` is the
newest of a window of entries for other users: time until it arrives, the realtime process's
CPU and RSS, and the Redis entries the replays read (realtime `/health`).
Each attack runs in a process of its own (`python -m bench.p7_abuse <attack> <json>`), at the
lowest CPU priority (nice 19): on a real deployment the attacker's machine is not the server's,
so the attacker's own work (tens of thousands of connects a second, its event loop) must not be
counted as the server's, nor stall the well-behaved clients' event loop in this process. It
still shares the machine's two cores with everything else; the gateway and the realtime
process run at normal priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import socket
import struct
import sys
import time
import urllib.request
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from typing import Any

import redis.asyncio as aioredis
import uvloop

from bench import services
from bench.context import HOST, Context
from bench.database import access_token, close_django_connections, make_team, make_users
from bench.p1_push import PushPhase
from bench.processes import Service, python
from bench.report import row
from bench.stats import ratio, spread
from bench.wsclient import WsClient, open_many, wait_for_message
from taskflow_events import keys
from taskflow_local.processes import cpu_sample, rss_bytes

TARGET_RATIO = 2.0
TARGET_RSS_MB = 300.0
MB = 1024 * 1024
BIG_FRAME = 16 * MB
SOCKETS_PER_USER = 20  # the realtime service's default cap


@dataclasses.dataclass(frozen=True)
class Params:
    sockets: int  # well-behaved sockets, in teams of `team_size`
    team_size: int
    rate: float  # well-behaved writes per second (tasks created through the API)
    seconds: float  # measured per phase
    warmup_seconds: float  # the attack runs this long before measuring
    big_frames: int  # concurrent 16 MiB-frame attackers
    stalled: int  # non-reading sockets
    flood_rate: float  # events/s for them
    flood_bytes: int  # characters of each
    cap_concurrency: int  # loops opening sockets for one user
    replay_window: int  # stream entries the replays skip over
    replays: int  # concurrent replays


PARAMS = {
    "short": Params(200, 10, 50.0, 12.0, 2.0, 40, 300, 30.0, 32_000, 50, 50_000, 10),
    "full": Params(200, 10, 50.0, 20.0, 2.0, 40, 300, 30.0, 32_000, 50, 50_000, 10),
    "smoke": Params(20, 10, 10.0, 1.0, 0.5, 4, 25, 50.0, 4_000, 5, 500, 2),
}


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=10) as response:
        health: dict[str, Any] = json.loads(response.read())
    return health


def connections(port: int) -> int:
    return int(_health(port)["connections"])


def replay_entries_read(port: int) -> int:
    return int(_health(port)["replay"]["entries_read"])


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0

    async def run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes(self.pid))
            await asyncio.sleep(0.1)

    def reset(self) -> int:
        self.peak = rss_bytes(self.pid)
        return self.peak


async def _raw_socket(port: int, receive_buffer: int | None = None) -> WsClient:
    """A handshaken socket; with `receive_buffer`, a tiny kernel buffer (a client that stalls
    fills it, and then the server's, quickly)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await loop.sock_connect(sock, (HOST, port))
    _, client = await loop.create_connection(lambda: WsClient(HOST, port), sock=sock)
    try:
        await client.upgraded
    except BaseException:
        if client.transport is not None:  # refused at the handshake (the gateway's 429)
            client.transport.close()
        raise
    return client


async def big_frames(stop: asyncio.Event, port: int, concurrency: int) -> dict[str, int]:
    """`concurrency` loops, each: open, start a 16 MiB text frame, write until refused."""
    counts = {"frames": 0, "closed_1009": 0, "errors": 0}
    chunk = b" " * (256 * 1024)

    async def one() -> None:
        while not stop.is_set():
            began = time.monotonic()
            try:
                client = await _raw_socket(port)
                assert client.transport is not None
                header = struct.pack("!BBQ", 0x81, 0x80 | 127, BIG_FRAME) + b"\0\0\0\0"
                client.transport.write(header)
                counts["frames"] += 1
                sent = 0
                while sent < BIG_FRAME and client.is_open and not stop.is_set():
                    client.transport.write(chunk)
                    sent += len(chunk)
                    await asyncio.sleep(0.005)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(client.closed), 5)
                if client.close_code == 1009:
                    counts["closed_1009"] += 1
                client.close()
            except (OSError, ConnectionError, TimeoutError):
                counts["errors"] += 1
            # One frame per attacker per second: the attack is the frames' size; a connection
            # rate flood is another attack (bounded by the gateway, docs/operations.md).
            await asyncio.sleep(max(0.0, began + 1.0 - time.monotonic()))

    await asyncio.gather(*(one() for _ in range(concurrency)))
    return counts


async def stalled_sockets(
    port: int, tokens: list[str], concurrency: int = 100
) -> tuple[list[WsClient], int]:
    """Authenticated sockets that then stop reading (reading paused, tiny receive buffer)."""
    gate = asyncio.Semaphore(concurrency)
    failed = 0

    async def one(token: str) -> WsClient | None:
        nonlocal failed
        async with gate:
            try:
                client = await _raw_socket(port, receive_buffer=4096)
                client.send_json({"type": "auth", "token": token, "last_event_id": None})
                await wait_for_message(client, lambda message: True, 60)
                assert client.transport is not None
                client.transport.pause_reading()
                return client
            except (OSError, ConnectionError, TimeoutError):
                failed += 1
                return None

    opened = await asyncio.gather(*(one(token) for token in tokens))
    return [client for client in opened if client is not None], failed


async def flood(
    redis_url: str, stream: str, recipients: str, rate: float, size: int, stop: asyncio.Event
) -> int:
    """Large events for the stalled users, written straight into the stream at `rate`/s."""
    client = aioredis.Redis.from_url(redis_url)
    padding = "x" * size
    sent = 0
    begin = time.monotonic()
    try:
        while not stop.is_set():
            delay = begin + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            event = json.dumps({"event": "task.updated", "team": 0, "data": {"pad": padding}})
            await client.xadd(stream, {"r": recipients, "e": event}, maxlen=100_000)
            sent += 1
    finally:
        await client.aclose()
    return sent


async def stalled_flood(
    stop: asyncio.Event,
    port: int,
    tokens: list[str],
    sockets: int,
    redis_url: str,
    stream: str,
    recipients: str,
    rate: float,
    size: int,
) -> dict[str, int]:
    """`sockets` non-reading sockets (the users' `tokens` in turn), then large events for those
    users until told to stop."""
    every = [tokens[n % len(tokens)] for n in range(sockets)]
    stalled, failed = await stalled_sockets(port, every)
    sent = await flood(redis_url, stream, recipients, rate, size, stop)
    for client in stalled:
        client.close()
    return {"opened": len(stalled), "failed": failed, "flood_events": sent}


async def cap_flood(stop: asyncio.Event, port: int, token: str, concurrency: int) -> dict[str, int]:
    """One user opening sockets as fast as it can; the ones that get in stay open."""
    counts = {"attempts": 0, "refused_4429": 0, "refused_429": 0, "admitted": 0}
    kept: list[WsClient] = []

    async def one() -> None:
        while not stop.is_set():
            counts["attempts"] += 1
            client: WsClient | None = None
            try:
                client = await _raw_socket(port)
                client.send_json({"type": "auth", "token": token, "last_event_id": None})
                await wait_for_message(client, lambda message: True, 10)
                counts["admitted"] += 1
                kept.append(client)
            except ConnectionError as error:
                if client is not None and client.close_code == 4429:
                    counts["refused_4429"] += 1
                elif client is None and " 429 " in str(error):
                    counts["refused_429"] += 1  # by the gateway, at the handshake
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)

    await asyncio.gather(*(one() for _ in range(concurrency)))
    for client in kept:
        client.close()
    return counts


ATTACKS: dict[str, Callable[..., Coroutine[Any, Any, dict[str, int]]]] = {
    "big_frames": big_frames,
    "stalled": stalled_flood,
    "cap_flood": cap_flood,
}


class AttackerProcess:
    """One attack in a child process (see the module's docstring); `stop` ends it and returns
    what it counted."""

    def __init__(self, env: dict[str, str], kind: str, **spec: Any) -> None:
        args = python("-m", "bench.p7_abuse", kind, json.dumps(spec))
        self.service = Service(f"p7-attacker-{kind}", args, env).start()

    async def stop(self) -> dict[str, int]:
        await asyncio.to_thread(self.service.stop, 60.0)  # SIGTERM: it reports, then exits
        assert self.service.log_path is not None
        lines = self.service.log_path.read_text().strip().splitlines()
        outcome: dict[str, int] = json.loads(lines[-1]) if lines else {"no_report": 1}
        return outcome


def attacker_main(argv: list[str]) -> None:
    """`python -m bench.p7_abuse <attack> <json spec>`: run until SIGTERM, print the counts."""
    kind, spec = argv[0], json.loads(argv[1])
    os.nice(19)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        outcome = await ATTACKS[kind](stop, **spec)
        print(json.dumps(outcome), flush=True)

    uvloop.run(main())


class Abuse:
    def __init__(self, params: Params, realtime_pid: int):
        self.params = params
        self.pid = realtime_pid
        self.rss = RssSampler(realtime_pid)

    async def phase(
        self,
        push: PushPhase,
        repeat: int,
        attack: Callable[[], AttackerProcess] | None,
        after: Callable[[], Coroutine[Any, Any, dict[str, Any]]] | None = None,
    ) -> dict[str, Any]:
        """Normal traffic for one phase, with `attack` running alongside (then stopped)."""
        rss_before = self.rss.reset()
        attacker = attack() if attack is not None else None
        if attacker is not None:
            await asyncio.sleep(self.params.warmup_seconds)  # the attack is under way
        cpu_before, began = cpu_sample(self.pid), time.monotonic()
        measured = await push.run(repeat)
        cpu_after, ended = cpu_sample(self.pid), time.monotonic()
        seen = await after() if after is not None else {}
        outcome = (await attacker.stop()) | seen if attacker is not None else None
        return {
            "publish": measured["publish"],
            "write": measured["write"],
            "missing_events": measured["missing_events"],
            "rss_before_mb": rss_before / MB,
            "rss_peak_mb": self.rss.peak / MB,
            # The realtime process's CPU while measured, in % of one core: what the attack
            # costs the server itself, a figure the machine's other load moves far less than
            # a p99.
            "realtime_cpu_percent": 100
            * (cpu_after.cpu_seconds - cpu_before.cpu_seconds)
            / (ended - began),
            "attack": outcome,
        }


async def _measure(
    ctx: Context,
    api_port: int,
    realtime: Any,
    gateway_port: int,
    teams: list[tuple[int, list[int]]],
    tokens: dict[int, str],
    attackers: list[str],
) -> dict[str, Any]:
    mode, params = ctx.mode, PARAMS[ctx.mode.name]
    abuse = Abuse(params, realtime.pid)
    sampler = asyncio.create_task(abuse.rss.run())
    clients, errors = await open_many(HOST, realtime.port, list(tokens.values()))
    # The well-behaved traffic is P1's, at P7's rate and length.
    push_mode = dataclasses.replace(mode, p1_rate=params.rate, p1_seconds=params.seconds)
    push = PushPhase(dataclasses.replace(ctx, mode=push_mode), api_port, teams, tokens)
    for client in clients:
        client.messages.clear()
        client.on_message = push.on_message
    stream = ctx.env.get("TASKFLOW_EVENT_STREAM", "taskflow:{events}")
    attacker_ids = [int(token_user) for token_user in attackers[:-2:2]]
    attacker_tokens = attackers[1:-2:2]
    replayer_id, replayer_token = int(attackers[-2]), attackers[-1]
    stalled_state: dict[str, Any] = {}

    env = ctx.env

    def attack_big_frames() -> AttackerProcess:
        return AttackerProcess(env, "big_frames", port=realtime.port, concurrency=params.big_frames)

    def attack_stalled() -> AttackerProcess:
        return AttackerProcess(
            env,
            "stalled",
            port=realtime.port,
            tokens=attacker_tokens,
            sockets=params.stalled,
            redis_url=ctx.redis_url,
            stream=stream,
            recipients=",".join(str(user) for user in attacker_ids),
            rate=params.flood_rate,
            size=params.flood_bytes,
        )

    async def after_stalled() -> dict[str, Any]:
        # Sockets the server dropped (1013) no longer count as its connections.
        still_open = await asyncio.to_thread(connections, realtime.port) - len(clients)
        return {"still_open_at_end": still_open, "peak_mb": round(abuse.rss.peak / MB, 1)}

    def attack_cap_gateway() -> AttackerProcess:
        return AttackerProcess(
            env,
            "cap_flood",
            port=gateway_port,
            token=attacker_tokens[0],
            concurrency=params.cap_concurrency,
        )

    def attack_cap_direct() -> AttackerProcess:
        return AttackerProcess(
            env,
            "cap_flood",
            port=realtime.port,
            token=attacker_tokens[0],
            concurrency=params.cap_concurrency,
        )

    attacks: dict[str, tuple[Callable[[], AttackerProcess] | None, Any]] = {
        "none": (None, None),
        "big_frames": (attack_big_frames, None),
        "stalled": (attack_stalled, after_stalled),
        "cap_flood": (attack_cap_gateway, None),
        "cap_flood_direct": (attack_cap_direct, None),
    }
    repeats: list[dict[str, Any]] = []
    for repeat in range(mode.repeats):
        phases: dict[str, Any] = {}
        for name, (attack, after) in attacks.items():
            phases[name] = await abuse.phase(push, repeat * 10 + len(phases), attack, after)
            if name == "stalled":
                # Its sockets are gone (reset by the server, closed by the attacker's exit):
                # RSS once the server has let go of them.
                await asyncio.sleep(3.0)
                stalled_state["after_close_mb"] = rss_bytes(realtime.pid) / MB
            ctx.log(
                f"P7 repeat {repeat + 1} {name}: publish->socket p99"
                f" {phases[name]['publish']['p99_ms']:.2f} ms, RSS peak"
                f" {phases[name]['rss_peak_mb']:.0f} MB, realtime CPU"
                f" {phases[name]['realtime_cpu_percent']:.0f}%, attack {phases[name]['attack']}"
            )
        phases["stalled"]["rss_after_close_mb"] = stalled_state.get("after_close_mb")
        repeats.append(phases)
    replay = await replay_cost(ctx, params, realtime, stream, replayer_id, replayer_token)
    ctx.log(f"P7 replay: {replay}")
    sampler.cancel()
    for client in clients:
        client.close()
    return {
        "sockets_open": len(clients),
        "socket_errors": errors[:5],
        "repeats": repeats,
        "replay": replay,
        "rss_peak_mb": abuse.rss.peak / MB,
    }


async def _append(client: aioredis.Redis, stream: str, user_id: int, event: str) -> str:
    """An event for `user_id` as the core's publisher writes it: the entry, and its id in the
    user's index (docs/events.md "Layout")."""
    entry_id = str(await client.xadd(stream, {"r": str(user_id), "e": event}))
    await client.xadd(keys.user_index_key(stream, user_id), {"p": "1"}, id=entry_id)
    return entry_id


async def replay_cost(
    ctx: Context, params: Params, realtime: Any, stream: str, user_id: int, token: str
) -> dict[str, float]:
    """`replays` concurrent reconnects from the user's own event at the start of a window of
    `replay_window` entries for other users, whose last entry is the user's next event."""
    client = aioredis.Redis.from_url(ctx.redis_url, decode_responses=True)
    try:
        first = await _append(client, stream, user_id, '{"event":"replay.start"}')
        padding = "y" * 1000
        for start in range(0, params.replay_window, 1000):
            pipe = client.pipeline(transaction=False)
            for _ in range(min(1000, params.replay_window - start)):
                event = json.dumps({"event": "filler", "pad": padding})
                pipe.xadd(stream, {"r": "0", "e": event})
            await pipe.execute()
        await _append(client, stream, user_id, '{"event":"replay.marker"}')
    finally:
        await client.aclose()
    read_before = await asyncio.to_thread(replay_entries_read, realtime.port)
    rss_before = rss_bytes(realtime.pid)
    cpu_before = cpu_sample(realtime.pid)
    sampler = RssSampler(realtime.pid)
    sampling = asyncio.create_task(sampler.run())

    async def one() -> float:
        began = time.monotonic()
        ws = await _raw_socket(realtime.port)
        ws.send_json({"type": "auth", "token": token, "last_event_id": str(first)})
        await wait_for_message(ws, lambda message: message.get("type") != "ready", 120)
        elapsed = time.monotonic() - began
        ws.close()
        return elapsed

    times = await asyncio.gather(*(one() for _ in range(params.replays)))
    sampling.cancel()
    cpu_after = cpu_sample(realtime.pid)
    read = await asyncio.to_thread(replay_entries_read, realtime.port) - read_before
    return {
        "redis_entries_read_per_replay": read / params.replays,
        "window_entries": float(params.replay_window),
        "replays": float(params.replays),
        "slowest_s": max(times),
        "cpu_s": cpu_after.cpu_seconds - cpu_before.cpu_seconds,
        "rss_growth_mb": (sampler.peak - rss_before) / MB,
    }


def _seed(ctx: Context) -> tuple[list[tuple[int, list[int]]], dict[int, str], list[str]]:
    params = PARAMS[ctx.mode.name]
    users = make_users("p7u", params.sockets)
    teams: list[tuple[int, list[int]]] = []
    for start in range(0, len(users), params.team_size):
        members = users[start : start + params.team_size]
        team = make_team(f"p7 team {start // params.team_size}", members[0], members)
        teams.append((team.pk, [user.pk for user in members]))
    tokens = {user.pk: access_token(user) for user in users}
    attacker_count = max(1, -(-params.stalled // SOCKETS_PER_USER))
    attackers: list[str] = []
    for user in make_users("p7x", attacker_count):
        attackers += [str(user.pk), access_token(user)]
    # The replaying user last: a user of its own, with no socket left over from the attacks.
    [replayer] = make_users("p7r", 1)
    attackers += [str(replayer.pk), access_token(replayer)]
    return teams, tokens, attackers


def run(ctx: Context) -> dict[str, Any]:
    teams, tokens, attackers = _seed(ctx)
    close_django_connections()
    with ExitStack() as stack:
        core, realtime = services.push_path(stack, ctx.env)
        gateway = services.gateway(core.port or 0, [realtime.port or 0])
        stack.callback(gateway.stop)
        measured = uvloop.run(
            _measure(ctx, core.port or 0, realtime, gateway.port or 0, teams, tokens, attackers)
        )
    services.celery_purge(ctx.env)
    return summarise(measured)


def summarise(measured: dict[str, Any]) -> dict[str, Any]:
    repeats = measured["repeats"]

    def p99(phase: str) -> dict[str, float]:
        return spread([r[phase]["publish"]["p99_ms"] for r in repeats])

    def p99_ratio(phase: str) -> dict[str, float]:
        return spread(
            [ratio(r[phase]["publish"]["p99_ms"], r["none"]["publish"]["p99_ms"]) for r in repeats]
        )

    rows = []
    labels = {
        "big_frames": "big pre-auth frames",
        "stalled": "non-reading sockets under an event flood",
        "cap_flood": "socket-cap flood through the gateway",
        "cap_flood_direct": "socket-cap flood around the gateway (straight at realtime)",
    }
    for phase, label in labels.items():
        phase_ratio = p99_ratio(phase)
        # Straight at realtime is not a path an attacker has: no deployment exposes the
        # realtime port (compose publishes only the gateway; `make run` binds 127.0.0.1), and
        # refusing a flood per client address is the gateway's job. It is recorded as what a
        # handshake costs the process itself, not held to the target (bench/NOTES.md).
        exposed = phase != "cap_flood_direct"
        rows.append(
            row(
                f"well-behaved p99 publish → socket during {label}",
                "ms",
                p99(phase),
                baseline=p99("none"),
                ratio=phase_ratio,
                target=f"≤ {TARGET_RATIO:g}x" if exposed else "recorded (port not exposed)",
                met=phase_ratio["median"] <= TARGET_RATIO if exposed else None,
            )
        )
    peak = spread([max(r[p]["rss_peak_mb"] for p in r) for r in repeats])
    rows.append(
        row(
            "realtime RSS peak (any phase)",
            "MB",
            peak,
            target=f"≤ {TARGET_RSS_MB:g} MB",
            met=peak["max"] <= TARGET_RSS_MB,
        )
    )
    missing = spread([float(sum(r[p]["missing_events"] for p in r)) for r in repeats])
    rows.append(
        row("well-behaved events missing", "", missing, target="0", met=missing["max"] == 0)
    )
    replay = measured["replay"]
    return {
        "title": "abuse: attacks on the realtime tier beside normal traffic",
        "rows": rows,
        "figures": {
            **{
                f"realtime CPU % of a core, {label}": spread(
                    [r[phase]["realtime_cpu_percent"] for r in repeats]
                )
                for phase, label in (
                    ("none", "no attack"),
                    ("cap_flood", "socket-cap flood through the gateway"),
                    ("cap_flood_direct", "socket-cap flood straight at realtime"),
                )
            },
            "RSS before stalled sockets MB": spread(
                [r["stalled"]["rss_before_mb"] for r in repeats]
            ),
            "RSS peak with stalled sockets MB": spread(
                [r["stalled"]["rss_peak_mb"] for r in repeats]
            ),
            "RSS after they closed MB": spread(
                [r["stalled"]["rss_after_close_mb"] or float("nan") for r in repeats]
            ),
            "replay: slowest of the concurrent replays s": spread([replay["slowest_s"]]),
            "replay: realtime CPU s": spread([replay["cpu_s"]]),
            "replay: realtime RSS growth MB": spread([replay["rss_growth_mb"]]),
            "replay: Redis entries read per replay": spread(
                [replay["redis_entries_read_per_replay"]]
            ),
        },
        "setup": {
            "sockets_open": measured["sockets_open"],
            "socket_errors": measured["socket_errors"],
            "repeats": len(repeats),
            "replay_window_entries": replay["window_entries"],
            "concurrent_replays": replay["replays"],
            "attacks": [{p: r[p]["attack"] for p in r if p != "none"} for r in repeats],
        },
        "raw": repeats,
    }


if __name__ == "__main__":
    attacker_main(sys.argv[1:])
