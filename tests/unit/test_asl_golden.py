"""Golden tests of the emitted Amazon States Language (moto executes the same definitions in integration tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chalicelib.compile import compile_workflow
from chalicelib.naming import state_machine_name
from chalicelib.compile.asl import levels
from chalicelib.runtime import loader
from tests.conftest import ROOT, SEED

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:cascade-dev-task_runner"


def _check(name: str, definition: dict) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(definition, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"ASL for {name} changed; review and rerun with UPDATE_GOLDEN=1"


@pytest.mark.parametrize("workflow", ["upstream_wf", "downstream_wf"])
def test_seed_workflows(workflow):
    wf = loader.load_paths([SEED]).workflow(workflow)
    _check(f"seed_{workflow}", compile_workflow(wf, RUNNER))


def test_diamond_runs_independent_tasks_in_a_parallel_state():
    wf = loader.load_paths([ROOT / "tests" / "golden" / "diamond.py"]).workflow("diamond")
    asl = compile_workflow(wf, RUNNER)
    _check("diamond", asl)
    assert [[n.id for n in level] for level in levels(wf.nodes)] == [["n0"], ["n1", "n2"], ["n3"]]
    parallel = asl["States"]["level1"]
    assert parallel["Type"] == "Parallel" and len(parallel["Branches"]) == 2
    # every Task state invokes the task runner and retries only Lambda service faults
    tasks = [s for name, s in asl["States"].items() if s["Type"] == "Task" and name != "Resolve"]
    tasks += [s for b in parallel["Branches"] for s in b["States"].values()]
    assert len(tasks) == 4 and {t["Resource"] for t in tasks} == {RUNNER}
    assert all(t["Retry"][0]["ErrorEquals"][0].startswith("Lambda.") for t in tasks)
    # a workflow with inputs resolves queries first, only when the run asks for it
    assert asl["States"]["Init"]["Next"] == "NeedsResolve" and asl["States"]["Resolve"]["Resource"] == RUNNER


def test_state_machine_names_are_valid_and_stable():
    assert state_machine_name("trigger_on_artifact.upstream_wf", "cascade-dev-") == "cascade-dev-trigger_on_artifact-upstream_wf"
    long = state_machine_name("m." + "x" * 120, "cascade-dev-")
    assert len(long) <= 80 and long == state_machine_name("m." + "x" * 120, "cascade-dev-")
    assert state_machine_name("a.b_c") != state_machine_name("a_b.c")
