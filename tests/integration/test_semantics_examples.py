"""The examples that use the trigger semantics, run as a user runs them: `run FILE WORKFLOW --json`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chalicelib.cli import main
from tests.conftest import EXAMPLES


def _run(file: str, workflow: str) -> dict:
    result = CliRunner().invoke(main, ["run", str(EXAMPLES / file), workflow, "--json"])
    assert result.exit_code == 0, result.output[-3000:]
    rep = json.loads(result.stdout)
    assert rep["errors"] == [] and all(e["status"] == "SUCCEEDED" for e in rep["executions"])
    return rep


def _outputs(rep: dict, launch_plan: str) -> list:
    return [e["outputs"]["o0"] for e in rep["executions"] if e["launch_plan"] == launch_plan]


def test_trigger_bindings_example():
    rep = _run("trigger_bindings.py", "ingest")
    assert _outputs(rep, "daily_report_lp") == [{
        "region": "emea", "day": "2026-11-24T00:00:00+00:00", "units": 39, "growth": 6, "target": 40, "currency": "EUR"}]


def test_fan_in_example():
    (out,) = [e["outputs"]["o0"] for e in _run("fan_in.py", "analyze")["executions"]]
    assert out["rows"] == 40_000 and sorted(out["columns"]) == ["a", "b", "c"]


def test_aligned_example_fires_once_per_aligned_set():
    rep = _run("aligned_sales_weather.py", "daily_loads")
    assert sorted(o["units"] for o in _outputs(rep, "forecast_when_aligned")) == [150, 180]


@pytest.mark.parametrize("workflow", ["ingest_clicks"])
def test_hourly_cascade_example(workflow):
    rep = _run("hourly_cascade.py", workflow)
    assert _outputs(rep, "notify_on_alert") == ["clicks up at 2026-11-24T09:00:00+00:00: 15 -> 21"]
