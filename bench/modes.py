"""How big and how long each benchmark runs: `short` for `make bench`, `full` for `bench-full`,
`smoke` (tiny, never recorded) for `make test`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Mode:
    name: str
    repeats: int
    # P1 push latency
    p1_sockets: int
    p1_team_size: int
    p1_rate: float
    p1_seconds: float
    # P2 API throughput
    p2_clients: int
    p2_seconds: float
    # P3 idle sockets (held side by side on both servers; CPU/RSS sampled per window)
    p3_sockets: int
    p3_hold_seconds: float
    p3_windows: int
    p3_ping_interval: float
    # P4 fan-out
    p4_members: int
    p4_single_events: int
    p4_burst: int
    # P5 slow SMTP
    p5_rate: float
    p5_seconds: float
    p5_slow_delay: float
    # P6 deadline scan
    p6_tasks: int
    p6_scans: int
    p8_tasks: int
    # P9 open-loop assigned creates (steady 50/s, then rising rates)
    p9_seconds: float
    p9_step_seconds: float
    p9_rates: tuple[float, ...]
    p9_plain_rates: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SHORT = Mode(
    name="short",
    repeats=3,
    p1_sockets=1000,
    p1_team_size=10,
    p1_rate=100.0,
    p1_seconds=6.0,
    p2_clients=16,
    p2_seconds=4.0,
    p3_sockets=10_000,
    p3_hold_seconds=30.0,
    p3_windows=3,
    p3_ping_interval=5.0,
    p4_members=5000,
    p4_single_events=10,
    p4_burst=10,
    p5_rate=30.0,
    p5_seconds=6.0,
    p5_slow_delay=2.0,
    p6_tasks=100_000,
    p6_scans=10,
    p8_tasks=2000,
    p9_seconds=6.0,
    p9_step_seconds=3.0,
    p9_rates=(50.0, 75.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0),
    p9_plain_rates=(100.0, 200.0, 300.0, 400.0, 600.0, 800.0, 1000.0, 1200.0),
)

FULL = Mode(
    name="full",
    repeats=5,
    p1_sockets=1000,
    p1_team_size=10,
    p1_rate=100.0,
    p1_seconds=30.0,
    p2_clients=16,
    p2_seconds=15.0,
    p3_sockets=10_000,
    p3_hold_seconds=600.0,
    p3_windows=10,
    p3_ping_interval=20.0,
    p4_members=5000,
    p4_single_events=30,
    p4_burst=20,
    p5_rate=30.0,
    p5_seconds=20.0,
    p5_slow_delay=2.0,
    p6_tasks=100_000,
    p6_scans=30,
    p8_tasks=2000,
    p9_seconds=20.0,
    p9_step_seconds=8.0,
    p9_rates=(50.0, 75.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0),
    p9_plain_rates=(100.0, 200.0, 300.0, 400.0, 600.0, 800.0, 1000.0, 1200.0),
)

# `make test` runs every benchmark once at this size (tests/bench/test_smoke.py): not a
# measurement, a proof that each one still runs end to end.
SMOKE = Mode(
    name="smoke",
    repeats=1,
    p1_sockets=20,
    p1_team_size=10,
    p1_rate=20.0,
    p1_seconds=1.0,
    p2_clients=2,
    p2_seconds=0.5,
    p3_sockets=20,
    p3_hold_seconds=1.0,
    p3_windows=1,
    p3_ping_interval=5.0,
    p4_members=20,
    p4_single_events=2,
    p4_burst=2,
    p5_rate=5.0,
    p5_seconds=1.0,
    p5_slow_delay=0.2,
    p6_tasks=200,
    p6_scans=1,
    p8_tasks=50,
    p9_seconds=1.0,
    p9_step_seconds=0.5,
    p9_rates=(10.0, 20.0),
    p9_plain_rates=(10.0, 20.0),
)

MODES = {"short": SHORT, "full": FULL, "smoke": SMOKE}
