"""`python -m bench [--full] [--only P1,P3]`: run the benchmarks and record their results.

Run through `python -m taskflow_local exec --` (as `make bench` does) so that secrets and, when
no URLs are set, embedded PostgreSQL and Redis are there. Every process started is stopped by
PID, on success, on error and on SIGINT/SIGTERM; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from bench import report
from bench.context import Context
from bench.database import (
    bench_database_url,
    close_django_connections,
    drop_database,
    recreate_database,
    service_environment,
    setup_django,
)
from bench.modes import MODES
from bench.processes import raise_open_files_limit, stop_all

BENCHMARKS = {
    "P1": "bench.p1_push",
    "P2": "bench.p2_api",
    "P3": "bench.p3_idle",
    "P4": "bench.p4_fanout",
    "P5": "bench.p5_smtp",
    "P6": "bench.p6_scan",
    "P7-ABUSE": "bench.p7_abuse",
    "P8": "bench.p8_member_removal",
    "P9": "bench.p9_open_loop",
}


def _on_signal(signum: int, frame: FrameType | None) -> None:
    stop_all()
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="full mode (P3 holds 10 minutes)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, not recorded (make test)")
    parser.add_argument("--only", default="", help="comma-separated subset, e.g. P1,P4")
    parser.add_argument("--no-record", action="store_true", help="do not rewrite RESULTS.md")
    args = parser.parse_args(argv)
    mode = MODES["full" if args.full else "smoke" if args.smoke else "short"]
    selected = [name.strip().upper() for name in args.only.split(",") if name.strip()] or list(
        BENCHMARKS
    )
    unknown = set(selected) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    nofile = raise_open_files_limit()
    import os

    database_url = bench_database_url(os.environ["DATABASE_URL"])
    recreate_database(database_url)
    env = service_environment(database_url)
    ctx = Context(mode=mode, env=env, started=time.monotonic())
    ctx.log(
        f"mode {mode.name}; open files limit {nofile}; database {database_url.rsplit('/', 1)[-1]}"
    )
    setup_django(env)
    # The measuring process's own full garbage collections (everything Django loaded) would
    # land in the latencies it records: keep them out of the collector's sight.
    gc.collect()
    gc.freeze()
    results: dict[str, Any] = {
        "meta": report.machine()
        | {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": mode.as_dict(),
            "open_files_limit": nofile,
        },
        "benchmarks": {},
    }
    failed = False
    try:
        for name in selected:
            ctx.log(f"{name}: starting")
            begin = time.monotonic()
            try:
                module = importlib.import_module(BENCHMARKS[name])
                outcome = module.run(ctx)
                outcome.setdefault("method", (module.__doc__ or "").strip())
            except Exception:
                failed = True
                outcome = {"error": traceback.format_exc()}
                ctx.log(f"{name}: FAILED\n{outcome['error']}")
            finally:
                stop_all()
                close_django_connections()
            outcome["seconds"] = round(time.monotonic() - begin, 1)
            results["benchmarks"][name] = outcome
            ctx.log(f"{name}: done in {outcome['seconds']}s")
    finally:
        stop_all()
        close_django_connections()
        drop_database(database_url)
    path = report.save(results, record=not (args.no_record or args.smoke))
    ctx.log(f"results: {path}")
    print(report.summary_table(results))
    print(json.dumps({"failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
