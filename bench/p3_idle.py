"""P3 idle sockets: 10,000 authenticated sockets held on one realtime process.

The realtime service and the baseline (`bench/bare_ws.py`: FastAPI on the same uvicorn flags,
accepting, answering `ready`, holding) run side by side in the same run, each holding the same
number of sockets opened by child processes (`bench/socket_holder.py`, two per server so that
no client process holds more than half). uvicorn's server pings keep the sockets alive
(`--ws-ping-interval`, the same for both); the holders answer them. The hold is cut into
windows: per window, the server's CPU (share of one core) and, at its end, its RSS. RSS per
socket = (RSS at the end of the window - RSS before any socket opened) ÷ sockets held.
Drops = sockets that closed while held, or failed to open.
"""

from __future__ import annotations

import json
import subprocess
import time
from contextlib import ExitStack
from typing import Any

from bench import services
from bench.context import Context
from bench.database import access_token, close_django_connections, make_users
from bench.processes import LOG_DIR, REPO, Service, cpu_percent, python
from bench.report import row
from bench.stats import ratio, spread

TARGET_KIB_PER_SOCKET = 40.0
TARGET_RATIO = 1.3
HOLDERS_PER_SERVER = 2


def _tokens(ctx: Context) -> list[str]:
    users = make_users("p3u", ctx.mode.p3_sockets)
    return [access_token(user) for user in users]


class Holders:
    """The client processes holding one server's sockets."""

    def __init__(self, name: str, port: int, tokens: list[str]) -> None:
        self.processes: list[subprocess.Popen[str]] = []
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        share = -(-len(tokens) // HOLDERS_PER_SERVER)
        for index in range(HOLDERS_PER_SERVER):
            path = LOG_DIR / f"{name}-tokens-{index}.txt"
            path.write_text("\n".join(tokens[index * share : (index + 1) * share]))
            self.processes.append(
                subprocess.Popen(
                    python(
                        "-m", "bench.socket_holder", "--port", str(port), "--tokens-file", str(path)
                    ),
                    cwd=REPO,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )

    def wait_open(self) -> tuple[int, int]:
        opened = failed = 0
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline().split()
            if len(line) != 3 or line[0] != "OPEN":
                raise RuntimeError(f"socket holder said {line!r}")
            opened, failed = opened + int(line[1]), failed + int(line[2])
        return opened, failed

    def release(self) -> list[dict[str, Any]]:
        reports = []
        for process in self.processes:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write("stop\n")
            process.stdin.flush()
        for process in self.processes:
            assert process.stdout is not None
            reports.append(json.loads(process.stdout.readline()))
            process.wait(60)
        return reports

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _hold(ctx: Context, servers: dict[str, Service], tokens: list[str]) -> dict[str, Any]:
    idle_rss = {}
    for name, server in servers.items():
        idle_rss[name] = server.rss_bytes()
    with ExitStack() as stack:
        holders = {}
        for name, server in servers.items():
            holders[name] = Holders(name, server.port or 0, tokens)
            stack.callback(holders[name].kill)
        opened = {name: holder.wait_open() for name, holder in holders.items()}
        ctx.log(f"P3: sockets open (opened, failed): {opened}")
        time.sleep(2.0)  # let the handshakes' garbage settle
        windows: list[dict[str, Any]] = []
        seconds = ctx.mode.p3_hold_seconds / ctx.mode.p3_windows
        for window in range(ctx.mode.p3_windows):
            before = {name: server.cpu() for name, server in servers.items()}
            time.sleep(seconds)
            sample: dict[str, Any] = {}
            for name, server in servers.items():
                rss = server.rss_bytes()
                sockets = max(opened[name][0], 1)
                sample[name] = {
                    "cpu_percent": cpu_percent(before[name], server.cpu()),
                    "rss_mib": rss / 2**20,
                    "kib_per_socket": (rss - idle_rss[name]) / 1024 / sockets,
                }
            ctx.log(
                f"P3 window {window + 1}: "
                + "; ".join(
                    f"{name} {value['kib_per_socket']:.1f} KiB/socket,"
                    f" {value['cpu_percent']:.1f}% CPU"
                    for name, value in sample.items()
                )
            )
            windows.append(sample)
        reports = {name: holder.release() for name, holder in holders.items()}
    return {
        "idle_rss_mib": {name: value / 2**20 for name, value in idle_rss.items()},
        "opened": {name: value[0] for name, value in opened.items()},
        "failed_to_open": {name: value[1] for name, value in opened.items()},
        "dropped": {name: sum(r["dropped"] for r in reports[name]) for name in reports},
        "pings_answered": {name: sum(r["pings"] for r in reports[name]) for name in reports},
        "holder_reports": reports,
        "windows": windows,
    }


def run(ctx: Context) -> dict[str, Any]:
    tokens = _tokens(ctx)
    close_django_connections()
    ping = ("--ws-ping-interval", f"{ctx.mode.p3_ping_interval:g}", "--ws-ping-timeout", "20")
    with ExitStack() as stack:
        realtime = services.realtime(ctx.env, extra_args=ping)
        stack.callback(realtime.stop)
        bare = services.bare_socket_server(ctx.env, extra_args=ping)
        stack.callback(bare.stop)
        services.wait_healthy(f"http://127.0.0.1:{realtime.port}/health")
        measured = _hold(ctx, {"realtime": realtime, "bare": bare}, tokens)
    return summarise(ctx, measured)


def summarise(ctx: Context, measured: dict[str, Any]) -> dict[str, Any]:
    windows = measured["windows"]

    def series(server: str, key: str) -> dict[str, float]:
        return spread([window[server][key] for window in windows])

    kib = series("realtime", "kib_per_socket")
    kib_ratio = spread(
        [
            ratio(window["realtime"]["kib_per_socket"], window["bare"]["kib_per_socket"])
            for window in windows
        ]
    )
    cpu_ratio = spread(
        [
            ratio(window["realtime"]["cpu_percent"], window["bare"]["cpu_percent"])
            for window in windows
        ]
    )
    expected = ctx.mode.p3_sockets
    lost = (
        measured["dropped"]["realtime"]
        + measured["failed_to_open"]["realtime"]
        + max(0, expected - measured["opened"]["realtime"] - measured["failed_to_open"]["realtime"])
    )
    return {
        "title": f"{expected:,} idle authenticated sockets on one realtime process",
        "rows": [
            row(
                "sockets dropped or refused",
                "",
                spread([float(lost)]),
                baseline=spread(
                    [float(measured["dropped"]["bare"] + measured["failed_to_open"]["bare"])]
                ),
                target="0",
                met=lost == 0,
            ),
            row(
                "RSS per socket",
                "KiB",
                kib,
                baseline=series("bare", "kib_per_socket"),
                ratio=kib_ratio,
                target=f"≤ {TARGET_KIB_PER_SOCKET:g} KiB and ≤ {TARGET_RATIO:g}x bare",
                met=kib["median"] <= TARGET_KIB_PER_SOCKET and kib_ratio["median"] <= TARGET_RATIO,
            ),
            row(
                "idle CPU (share of one core)",
                "%",
                series("realtime", "cpu_percent"),
                baseline=series("bare", "cpu_percent"),
                ratio=cpu_ratio,
                target=f"≤ {TARGET_RATIO:g}x bare",
                met=cpu_ratio["median"] <= TARGET_RATIO,
            ),
        ],
        "figures": {
            "realtime RSS MiB": series("realtime", "rss_mib"),
            "bare RSS MiB": series("bare", "rss_mib"),
        },
        "setup": {
            "sockets": expected,
            "hold_seconds": ctx.mode.p3_hold_seconds,
            "windows": ctx.mode.p3_windows,
            "ping_interval_s": ctx.mode.p3_ping_interval,
            "idle_rss_mib": measured["idle_rss_mib"],
            "opened": measured["opened"],
            "pings_answered": measured["pings_answered"],
        },
        "raw": measured,
    }
