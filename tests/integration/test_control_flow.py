"""Flyte control flow on the local cloud (moto's Step Functions interpreter): several outputs, subworkflows,
conditionals; each run's outputs are what the workflow's body computes."""

from __future__ import annotations

import json

from tests.integration.conftest import load, run


def _outputs(cloud, workflow: str, **inputs):
    rep = run(cloud, load("ctl_flows"), workflow, **inputs)
    ex = [e for e in rep["executions"] if e["workflow"].endswith(f".{workflow}")][-1]
    return ex


def _ok(cloud, workflow: str, **inputs):
    ex = _outputs(cloud, workflow, **inputs)
    assert ex["status"] == "SUCCEEDED", (ex.get("error"), ex.get("cause"))
    return ex["outputs"]


def test_several_outputs_unpacked_named_and_annotated(cloud):
    out = _ok(cloud, "several")
    assert out["o0"] == "n=2:5" and out["o1"] == 5
    assert out["o2"]["$artifact"]["name"] == "ctl_summary"            # the annotated one of two task outputs
    assert _ok(cloud, "named", n=3) == {"total": 4, "label": "ok"}   # a NamedTuple keeps its field names
    pub = _ok(cloud, "publishes_second", n=7)
    assert pub["o0"] == 7 and pub["o1"]["$artifact"]["name"] == "ctl_published"


def test_subworkflows_nested_two_deep(cloud):
    # outer → middle → inner (twice): inner(1) = 2, inner(2) = 3, then stats(3) = 4
    assert _ok(cloud, "outer", n=1) == {"o0": 4, "o1": "mid:2"}
    assert _ok(cloud, "outer", n=5) == {"o0": 8, "o1": "mid:6"}


def test_conditional_on_a_workflow_input_picks_one_case(cloud):
    assert _ok(cloud, "sized") == {"o0": "mid:5"}          # the input's default, n=5
    assert _ok(cloud, "sized", n=12) == {"o0": "big:22"}   # the elif_ case runs its own task first
    ex = _outputs(cloud, "sized", n=1)
    assert ex["status"] == "FAILED"
    assert ex["error"] == "ConditionalFailed" and ex["cause"] == "n must be above 3"


def test_conditional_on_task_outputs_with_several_outputs_and_a_subworkflow_case(cloud):
    assert _ok(cloud, "on_output", score=40) == {"o0": 100, "o1": "pass"}   # split(50) = (100, "n=50")
    assert _ok(cloud, "on_output", score=10) == {"o0": 12, "o1": "fail"}    # else: middle(10) = (12, "mid:11")
    assert _ok(cloud, "on_bool", n=4) == {"o0": "even:4:14"}   # is_true(), then != on a string output
    assert _ok(cloud, "on_bool", n=3) == {"o0": "odd:3"}


def test_map_task_with_concurrency_partial_and_a_constant_input(cloud):
    # numbers(5) = [0..4]; scale by the input factor=3, then by 2 fixed with functools.partial
    assert _ok(cloud, "mapped") == {"o0": [0, 6, 12, 18, 24], "o1": 60}
    assert _ok(cloud, "mapped", n=2, factor=5) == {"o0": [0, 10], "o1": 10}
    assert _ok(cloud, "empty") == {"o0": 0}   # an empty list maps to an empty list


def test_map_task_failures_tolerated_by_min_success_ratio_become_none(cloud):
    assert _ok(cloud, "tolerant") == {"o0": [0, 10, None, 30, 40, None]}   # items 2 and 5 raise
    strict = _outputs(cloud, "strict")
    assert strict["status"] == "FAILED" and strict["error"] == "ValueError"
    assert strict["cause"] in ("item 2 breaks", "item 5 breaks")   # items run in parallel: the first to fail
    fragile = _outputs(cloud, "too_fragile")
    assert fragile["status"] == "FAILED" and fragile["error"] == "MapFailedError"
    assert "2 of 6 items failed (items 2, 5); 6 had to succeed" in fragile["cause"]


def test_map_task_makes_one_artifact_version_per_item(cloud):
    from tests.integration.support import store

    out = _ok(cloud, "versions", xs=[1, 2, 3])["o0"]
    refs = [o["$artifact"] for o in out]
    assert len({r["version"] for r in refs}) == 3 and {r["name"] for r in refs} == {"ctl_square"}
    s = store(cloud)
    assert [s.load(s.get("ctl_square", r["version"])) for r in refs] == [1, 4, 9]


def test_map_results_larger_than_a_state_travel_through_s3(cloud):
    ex = _outputs(cloud, "many", n=80)   # 80 items of 4 KiB: more than Step Functions' 256 KiB state
    assert ex["status"] == "SUCCEEDED", (ex.get("error"), ex.get("cause"))
    assert ex["outputs"]["o0"] == {"items": 80, "chars": 327_680, "first": "00000000", "last": "00790079"}
    from tests.integration.conftest import stage_of
    import json

    sfn = stage_of(cloud).sfn
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=ex["id"], maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    assert max(len(json.dumps(e, default=str)) for e in events) < 16_000
    assert any("$ref" in json.dumps(e, default=str) and "/n1/o0.json" in json.dumps(e, default=str) for e in events)


def test_launch_plan_called_in_a_workflow_runs_as_a_child_execution(cloud):
    rep = run(cloud, load("ctl_flows"), "launches", n=4)
    (parent,) = [e for e in rep["executions"] if e["workflow"].endswith(".launches")]
    (child,) = [e for e in rep["executions"] if e["launch_plan"] == "child_lp"]
    # bonus(4) = 14 → child: scale(14, factor fixed to 10) = 140, label from the plan's defaults → stats(140)
    assert child["status"] == "SUCCEEDED" and child["outputs"] == {"o0": 140, "o1": "lp:14"}
    assert parent["status"] == "SUCCEEDED" and parent["outputs"] == {"o0": 141, "o1": "lp:14"}


def _start(cloud, workflow: str, **inputs):
    from chalicelib import aws
    from chalicelib.ops import launch
    from tests.integration.conftest import register

    defs = load("ctl_flows")
    register(cloud, defs)
    wf, lp = launch.resolve(defs, workflow)
    sfn = aws.client("stepfunctions", cloud.settings.region)
    return launch.start_workflow(sfn, cloud.settings, wf, launch.inputs_for(wf, lp, inputs, from_text=False))


def _waiting(cloud, execution: str, gate: str):
    import time

    from tests.integration.conftest import stage_of
    from chalicelib.store.gates import GateStore, UnknownGateError

    stage = stage_of(cloud)
    store = GateStore(cloud.settings, stage.dynamodb)
    for _ in range(600):
        try:
            return store.get(execution, gate)
        except UnknownGateError:
            time.sleep(0.05)
    raise AssertionError(f"execution never reached gate {gate}")


def _execution_arn(started) -> str:
    return started["executionArn"] if isinstance(started, dict) else str(started)


def test_gates_sleep_wait_for_input_and_approve_through_the_signal_cli(cloud):
    from click.testing import CliRunner

    from chalicelib.cli import main
    from tests.integration.conftest import report

    arn = _execution_arn(_start(cloud, "gated", n=2))
    name = arn.rsplit(":", 1)[-1]
    _waiting(cloud, arn, "threshold")
    shown = CliRunner().invoke(main, ["executions"])  # a paused execution is shown waiting, with its gate
    assert shown.exit_code == 0 and "WAITING (threshold)" in shown.stdout, shown.output
    listed = CliRunner().invoke(main, ["executions", "--json"])
    assert [e["waiting_on"] for e in json.loads(listed.stdout) if e["id"] == arn] == [["threshold"]]
    wrong = CliRunner().invoke(main, ["signal", name, "threshold", "many"])
    assert wrong.exit_code == 1 and "gate 'threshold' expects int; 'many' is not one" in wrong.output
    ok = CliRunner().invoke(main, ["signal", name, "threshold", "7"])
    assert ok.exit_code == 0, ok.output
    _waiting(cloud, arn, "publish")
    ok = CliRunner().invoke(main, ["signal", name, "publish", "--approve"])
    assert ok.exit_code == 0, ok.output
    cloud.wait_quiet(60)
    (ex,) = [e for e in report(cloud)["executions"] if e["id"] == arn]
    # threshold 7 × bonus(2) = 12 → 84; the approved value is the report show() made
    assert ex["status"] == "SUCCEEDED" and ex["outputs"] == {"o0": 84, "o1": "limit:7"}


def test_a_rejected_approval_fails_the_execution(cloud):
    from chalicelib.cli.signal import send_signal
    from chalicelib.store.gates import GateStore
    from tests.integration.conftest import report, stage_of

    arn = _execution_arn(_start(cloud, "gated", n=1))
    stage = stage_of(cloud)
    gates = GateStore(cloud.settings, stage.dynamodb)
    _waiting(cloud, arn, "threshold")
    assert send_signal(stage.sfn, gates, arn, "threshold", "3", False, False) == "sent 3"
    _waiting(cloud, arn, "publish")
    assert send_signal(stage.sfn, gates, arn, "publish", None, False, True) == "rejected"
    cloud.wait_quiet(60)
    (ex,) = [e for e in report(cloud)["executions"] if e["id"] == arn]
    assert ex["status"] == "FAILED" and ex["error"] == "GateRejected"


def test_dynamic_task_runs_the_graph_its_inputs_shape(cloud):
    # bonus(2) = 12, even: scale(i, 10) for i in 0..11; bonus(3) = 13, odd: len(show(13, "odd")) = 6
    assert _ok(cloud, "dynamic_fan", n=2) == {"o0": [i * 10 for i in range(12)], "o1": 660}
    assert _ok(cloud, "dynamic_fan", n=3) == {"o0": [6], "o1": 6}
    from chalicelib import aws

    machines = [m["name"] for m in aws.client("stepfunctions", cloud.settings.region).list_state_machines()["stateMachines"]]
    assert len([m for m in machines if "-fan-dyn-" in m]) == 2   # one state machine per shape, reused
    assert _ok(cloud, "dynamic_fan", n=2)["o1"] == 660
    machines = [m["name"] for m in aws.client("stepfunctions", cloud.settings.region).list_state_machines()["stateMachines"]]
    assert len([m for m in machines if "-fan-dyn-" in m]) == 2
