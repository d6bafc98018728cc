"""examples/flyte_control_flow.py run as a user runs it: `run FILE WORKFLOW --json`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chalicelib.cli import main
from tests.conftest import EXAMPLES


def _run(workflow: str, *args: str) -> list[dict]:
    result = CliRunner().invoke(main, ["run", str(EXAMPLES / "flyte_control_flow.py"), workflow, *args, "--json"])
    assert result.exit_code in (0, 1), result.output[-3000:]
    return json.loads(result.output)["executions"]


def test_report_runs_a_subworkflow_a_launch_plan_a_map_and_a_conditional():
    runs = _run("report")
    assert sorted((e["workflow"].rsplit(".", 1)[-1], e["status"]) for e in runs) == [
        ("report", "SUCCEEDED"), ("stats", "SUCCEEDED")]
    (child,) = [e for e in runs if e["launch_plan"] == "class_stats"]
    assert child["outputs"] == {"o0": 49.4, "o1": 98}   # the plan's default: 20 students
    (parent,) = [e for e in runs if e["workflow"].endswith(".report")]
    assert parent["outputs"]["o0"]["$artifact"]["name"] == "class_scores"


def test_grade_takes_the_case_its_input_selects():
    assert _run("grade", "--score", "91")[0]["outputs"] == {"o0": "A"}
    assert _run("grade", "--score", "60")[0]["outputs"] == {"o0": "C"}   # curved by 5 to 65
    (failed,) = _run("grade", "--score", "20")
    assert failed["status"] == "FAILED" and failed["cause"] == "scores below 50 are reviewed by hand"
