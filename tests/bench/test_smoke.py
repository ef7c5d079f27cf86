"""Every benchmark (bench/, `make bench`) runs end to end at a tiny size, so none can rot unseen.

Not a measurement: the figures of so small a run mean nothing and are not recorded (its JSON goes
to .taskflow/bench/results/). Only that each benchmark starts its processes, drives them and
reports without an error is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.__main__ import BENCHMARKS
from tests.support.processes import REPO

pytestmark = pytest.mark.integration


@pytest.mark.timeout(540)
def test_every_benchmark_runs_at_smoke_size() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        # Eight benchmarks, each starting its own processes: 5-6 minutes on a loaded machine.
        timeout=480,
        check=False,
    )
    log = result.stderr[-6000:]
    assert result.returncode == 0, log
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"failed": False}, log
    for name in BENCHMARKS:
        assert f"{name}: done in" in result.stderr, f"{name} did not run:\n{log}"
    assert "FAILED" not in result.stderr, log
