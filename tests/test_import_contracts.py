"""Each import contract in pyproject.toml holds on the code and breaks when a forbidden import
is added: `lint-imports` runs on a copy of `src/` with one import added per case."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = {
    contract["id"]: contract["name"]
    for contract in tomllib.loads(CONFIG.read_text())["tool"]["importlinter"]["contracts"]
}


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # The copy first; the repository root for the `allowed_imports` contract type.
        "PYTHONPATH": os.pathsep.join([str(src), str(ROOT)]),
        "COLUMNS": "500",  # one line per contract, however long its name
    }
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CONFIG), "--no-cache"],
        cwd=src.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_every_contract_holds_on_the_code(tmp_path: Path) -> None:
    result = lint_imports(copy_of_src(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS.values():
        assert f"{name} KEPT" in result.stdout


# (contract id, module file under src/, the import added to it)
BREAKS = [
    ("realtime-events-no-core", "taskflow_realtime/hub.py", "import django"),
    ("realtime-events-no-core", "taskflow_events/codec.py", "import taskflow_core"),
    ("events-stdlib-pydantic", "taskflow_events/codec.py", "import redis"),
    ("events-stdlib-pydantic", "taskflow_events/events.py", "import fastapi"),
    ("events-stdlib-pydantic", "taskflow_events/frames.py", "import taskflow_realtime"),
    ("core-not-realtime-local", "taskflow_core/tasks/services.py", "import taskflow_realtime"),
    ("core-not-realtime-local", "taskflow_core/monitoring/health.py", "import taskflow_local"),
    ("core-not-realtime-local", "taskflow_core/config/wsgi.py", "import taskflow_deploy.commands"),
    ("deploy-stdlib", "taskflow_deploy/commands.py", "import django"),
    ("deploy-stdlib", "taskflow_deploy/gateway.py", "import pydantic"),
    ("deploy-stdlib", "taskflow_deploy/gateway.py", "import taskflow_local.processes"),
    ("production-not-local", "taskflow_realtime/health.py", "import taskflow_local.processes"),
    ("production-not-local", "taskflow_events/codec.py", "import taskflow_local"),
    ("production-not-local", "taskflow_deploy/commands.py", "import honcho"),
    # teams must never import tasks: tasks imports teams, so this is a cycle.
    ("core-apps-acyclic", "taskflow_core/teams/services.py", "import taskflow_core.tasks.models"),
    ("core-apps-acyclic", "taskflow_core/emails/models.py", "import taskflow_core.notifications"),
    # No cycle, but against the direction: teams and notifications are independent.
    (
        "core-apps-direction",
        "taskflow_core/teams/selectors.py",
        "import taskflow_core.notifications.models",
    ),
    (
        "core-apps-direction",
        "taskflow_core/common/pagination.py",
        "import taskflow_core.accounts.models",
    ),
    ("app-layers", "taskflow_core/teams/models.py", "import taskflow_core.teams.services"),
    ("app-layers", "taskflow_core/tasks/selectors.py", "import taskflow_core.tasks.apis"),
]


@pytest.mark.parametrize(("contract", "module", "statement"), BREAKS)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, contract: str, module: str, statement: str
) -> None:
    src = copy_of_src(tmp_path)
    path = src / module
    path.write_text(path.read_text() + f"\n{statement}  # added by the test\n")

    result = lint_imports(src)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{CONTRACTS[contract]} BROKEN" in result.stdout, result.stdout
