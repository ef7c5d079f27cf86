"""Percentiles and the min/median/max-over-repeats summaries every figure is reported with."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max of one repeat, in milliseconds."""
    ms = [value * 1000.0 for value in seconds]
    return {
        "count": float(len(ms)),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else math.nan,
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    """min/median/max of one figure over the repeats."""
    clean = [value for value in values if not math.isnan(value)]
    if not clean:
        return {"min": math.nan, "median": math.nan, "max": math.nan}
    return {"min": min(clean), "median": statistics.median(clean), "max": max(clean)}


def over_repeats(repeats: Sequence[dict[str, Any]], key: str) -> dict[str, float]:
    return spread([float(repeat[key]) for repeat in repeats if key in repeat])


def ratio(numerator: float, denominator: float) -> float:
    if denominator == 0 or math.isnan(denominator) or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def ratios(
    repeats: Sequence[dict[str, Any]], key: str, baseline_key: str | None = None
) -> dict[str, float]:
    """Per-repeat ratio of `key` to its side-by-side baseline, summarised over the repeats."""
    other = baseline_key or key
    return spread(
        [
            ratio(float(repeat["subject"][key]), float(repeat["baseline"][other]))
            for repeat in repeats
        ]
    )
