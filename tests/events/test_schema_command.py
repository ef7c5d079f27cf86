"""`python -m taskflow_events` prints the schema that is committed as docs/event-schema.json."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "event-schema.json"


def test_the_module_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_module("taskflow_events", run_name="__main__")
    assert capsys.readouterr().out == SCHEMA_FILE.read_text()
