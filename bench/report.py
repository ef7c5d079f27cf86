"""Recording results: raw JSON under bench/results/, bench/RESULTS.md and P1's latency plot."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.processes import REPO

BENCH = REPO / "bench"
RESULTS_DIR = BENCH / "results"
LATEST = RESULTS_DIR / "latest.json"
RESULTS_MD = BENCH / "RESULTS.md"
NOTES_MD = BENCH / "NOTES.md"
P1_PLOT = BENCH / "p1_latency.png"


def row(
    label: str,
    unit: str,
    value: dict[str, float],
    *,
    baseline: dict[str, float] | None = None,
    ratio: dict[str, float] | None = None,
    target: str = "",
    met: bool | None = None,
) -> dict[str, Any]:
    """One line of the results table: a figure, its baseline, their ratio, its target."""
    return {
        "label": label,
        "unit": unit,
        "value": value,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "met": met,
    }


def machine() -> dict[str, Any]:
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no", "--", "src"))
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit + ("+uncommitted src changes" if dirty else ""),
    }


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def _clean(value: Any) -> Any:
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def save(results: dict[str, Any], record: bool = True) -> Path:
    """Write the run's JSON; when recording, also fold it into latest.json and RESULTS.md
    (an unrecorded run, `--no-record`, leaves its JSON under .taskflow/bench/ only)."""
    directory = RESULTS_DIR if record else REPO / ".taskflow" / "bench" / "results"
    directory.mkdir(parents=True, exist_ok=True)
    stamp = results["meta"]["date"].replace(":", "").replace("-", "")[:15]
    path = directory / f"{stamp}-{results['meta']['mode']['name']}.json"
    path.write_text(json.dumps(_clean(results), indent=1) + "\n")
    if record:
        latest: dict[str, Any] = json.loads(LATEST.read_text()) if LATEST.exists() else {}
        mode = results["meta"]["mode"]["name"]
        for name, outcome in results["benchmarks"].items():
            # Short and full runs are kept apart: `make bench` does not hide the last 10-minute P3.
            key = name if mode == "short" else f"{name} {mode}"
            if "error" in outcome and key in latest:
                continue  # keep the last good figures; the failure is in the run's own file
            latest[key] = {"meta": results["meta"], "file": path.name} | {
                key: value for key, value in outcome.items() if key != "raw"
            }
        LATEST.write_text(json.dumps(_clean(latest), indent=1, sort_keys=True) + "\n")
        p1 = results["benchmarks"].get("P1")
        if p1 and "raw" in p1:
            plot_p1(p1["raw"], results["meta"])
        RESULTS_MD.write_text(render(latest))
    return path


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def _spread(value: dict[str, Any] | None, unit: str = "") -> str:
    if not value:
        return "—"
    if value.get("min") == value.get("max"):
        return _fmt(value.get("median"), unit)
    low, high = _fmt(value.get("min")), _fmt(value.get("max"))
    return f"**{_fmt(value.get('median'), unit)}** ({low}-{high})"


def _met(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: ""}[met]


def summary_table(latest: dict[str, Any]) -> str:
    benchmarks = latest.get("benchmarks", latest)
    lines = [
        "| | figure | result: median (min-max) | baseline, same run | ratio | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(benchmarks):
        outcome = benchmarks[name]
        if "rows" not in outcome:
            lines.append(f"| {name} | failed: see the run's JSON | | | | | |")
            continue
        for item in outcome["rows"]:
            lines.append(
                f"| {name} | {item['label']} | {_spread(item['value'], item['unit'])} |"
                f" {_spread(item['baseline'], item['unit'])} | {_spread(item['ratio'], 'x')} |"
                f" {item['target']} | {_met(item['met'])} |"
            )
    return "\n".join(lines)


def render(latest: dict[str, Any]) -> str:
    metas = {json.dumps(entry["meta"], sort_keys=True): entry["meta"] for entry in latest.values()}
    newest = max(metas.values(), key=lambda meta: meta["date"])
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (short mode) and `make bench-full` (full mode); do not edit by"
        " hand (notes on profiles and fixes live in `bench/NOTES.md` and are copied in below).",
        "",
        f"- Machine: {newest['cpu_count']} x {newest['cpu_model']}, {newest['memory_gib']} GiB"
        f" memory, Linux {newest['kernel']}, Python {newest['python']}",
        f"- Latest run: {newest['date']} at commit `{newest['commit']}`, {newest['mode']['name']}"
        " mode",
        "- Each figure is the **median** over the repeats, with (min-max); each ratio is taken"
        " per repeat against the baseline measured side by side in the same run, then summarised"
        " the same way. A target counts as met when the median meets it.",
        "- Raw numbers: `bench/results/<date>-<mode>.json`, one file per run, kept out of git;"
        " `latest.json` (committed) keeps the newest figures of each benchmark.",
        "",
        summary_table(latest),
        "",
    ]
    if P1_PLOT.exists():
        lines += [f"![P1 latency distribution]({P1_PLOT.name})", ""]
    for name in sorted(latest):
        outcome = latest[name]
        meta = outcome["meta"]
        lines += [
            f"## {name}: {outcome.get('title', '')}",
            "",
            f"Run {meta['date']}, commit `{meta['commit']}`, {meta['mode']['name']} mode,"
            f" {outcome.get('seconds', '?')} s.",
            "",
        ]
        if outcome.get("method"):
            lines += [outcome["method"], ""]
        if "error" in outcome:
            lines += ["Failed:", "", "```", outcome["error"].strip()[-2000:], "```", ""]
            continue
        other = {
            key: value
            for key, value in outcome.get("figures", {}).items()
            if isinstance(value, dict) and "median" in value
        }
        if other:
            lines += ["| figure | median (min-max) |", "|---|---|"]
            lines += [f"| {key} | {_spread(value)} |" for key, value in other.items()]
            lines.append("")
        if outcome.get("setup"):
            setup = json.dumps(outcome["setup"], sort_keys=True)
            lines += [f"Setup: `{setup}`", ""]
    if NOTES_MD.exists():
        lines += [NOTES_MD.read_text().strip(), ""]
    return "\n".join(lines)


def plot_p1(repeats: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    push = [value * 1000 for repeat in repeats for value in repeat["subject"]["latencies_s"]]
    writes = [
        value * 1000
        for repeat in repeats
        for value in repeat["subject"].get("write_latencies_s", [])
    ]
    publishes = [
        value * 1000
        for repeat in repeats
        for value in repeat["subject"].get("publish_latencies_s", [])
    ]
    redis = [value * 1000 for repeat in repeats for value in repeat["baseline"]["latencies_s"]]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    floor = 0.01  # log axis: an event that beat the HTTP response is drawn at 0.01 ms
    before = sum(1 for value in push if value < 0)
    for values, label in (
        (push, f"HTTP response → socket ({before} before the response, drawn at 0.01)"),
        (writes, "write (occurred_at, in the transaction) → socket"),
        (publishes, "publish (Redis stream id, ms) → socket"),
        (redis, "baseline: Redis PUBLISH → SUBSCRIBE"),
    ):
        if not values:
            continue
        ordered = sorted(max(value, floor) for value in values)
        share = [(index + 1) / len(ordered) for index in range(len(ordered))]
        right.plot(ordered, share, label=f"{label} (n={len(values)})")
        left.hist(ordered, bins=[floor * 1.25**step for step in range(60)], alpha=0.5, label=label)
    for axis in (left, right):
        axis.set_xscale("log")
        axis.axvline(5.0, color="red", linestyle="--", linewidth=1)
        axis.set_xlabel("latency (ms, log scale)")
    left.set_ylabel("events")
    left.set_title("distribution")
    right.set_ylabel("share of events ≤ x")
    right.set_title("CDF (red: 5 ms p99 target)")
    right.axhline(0.99, color="grey", linestyle=":", linewidth=1)
    right.legend(fontsize=8, loc="lower right")
    figure.suptitle(
        f"P1 push latency, 1,000 sockets, 100 writes/s — {meta['date']} commit {meta['commit']}"
    )
    figure.tight_layout()
    figure.savefig(P1_PLOT, dpi=100)
    plt.close(figure)
