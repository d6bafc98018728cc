"""Golden ASL of control flow (several outputs, subworkflows, conditionals) and the definition errors of bad
control flow; moto runs the same definitions in tests/integration/test_control_flow.py."""

from __future__ import annotations

from typing import Tuple

import pytest

from chalicelib import conditional, task, workflow
from chalicelib.compile import compile_workflow
from chalicelib.errors import DefinitionError
from chalicelib.runtime import loader
from tests.conftest import ROOT
from tests.unit.test_asl_golden import RUNNER, _check


def _control():
    return loader.load_paths([ROOT / "tests" / "golden" / "control.py"]).workflow("control")


def test_control_golden():
    wf = _control()
    asl = compile_workflow(wf, RUNNER)
    _check("control", asl)
    states = asl["States"]
    # the subworkflow's two tasks are inlined with the caller's binding for its input
    assert [n.task.short_name for n in wf.nodes] == ["split", "join", "join"]
    assert wf.nodes[0].bindings == {"n": {"input": "n"}}
    choice = states["n3-if-big"]
    assert choice["Type"] == "Choice" and choice["Default"] == "n3-fail2"
    assert choice["Choices"][0]["And"] == [
        {"Variable": "$.results.n0.outputs.head", "NumericGreaterThan": 3},
        {"Not": {"Variable": "$.results.n1.outputs.o0", "StringEquals": "x"}}]
    assert choice["Choices"][1]["Or"] == [
        {"Variable": "$.results.n0.outputs.head", "IsNull": True},
        {"Variable": "$.results.n0.outputs.head", "NumericEqualsPath": "$.inputs.n"}]
    assert states["n3-fail2"] == {"Type": "Fail", "Error": "ConditionalFailed", "Cause": "nothing matched"}
    # each case stores the conditional's output where a task's output would be
    assert states["n3-case1-outputs"]["Parameters"] == {"outputs": {"o0.$": "$.results.n1.outputs.o0"}}
    assert states["Outputs"]["Parameters"]["outputs"] == {"o0.$": "$.results.n3.outputs.o0",
                                                          "o1.$": "$.results.n0.outputs.head"}
    # Choice rules read inputs directly, so the inputs' defaults are merged in first
    assert states["Defaults"]["Result"] == {"n": 4}


@task
def one(n: int) -> int:
    return n


@task
def pair(n: int) -> Tuple[int, str]:
    return n, "x"


def test_condition_on_an_output_that_does_not_exist():
    with pytest.raises(DefinitionError, match="no output 'total'"):
        @workflow
        def wf(n: int) -> int:
            r = one(n=n)
            return conditional("c").if_(r.total > 1).then(one(n=r)).else_().then(r)


def test_branch_leaving_an_output_unset():
    with pytest.raises(DefinitionError, match="same outputs.*case 1: 1, case 2: 0"):
        @workflow
        def wf(n: int) -> int:
            return conditional("c").if_(n > 1).then(one(n=n)).else_().then(None)


def test_branches_with_different_numbers_of_outputs():
    with pytest.raises(DefinitionError, match="different numbers of outputs"):
        @workflow
        def wf(n: int) -> int:
            return conditional("c").if_(n > 1).then(one(n=n)).else_().then(pair(n=n))


def test_using_the_outputs_of_a_conditional_without_else():
    with pytest.raises(DefinitionError, match="has no else_"):
        @workflow
        def wf(n: int) -> int:
            c = conditional("c").if_(n > 1).then(one(n=n))
            return one(n=c)


def test_python_if_on_a_promise_and_and_or_are_refused():
    with pytest.raises(DefinitionError, match="conditional"):
        @workflow
        def wf(n: int) -> int:
            if n > 1:
                return one(n=n)
            return one(n=0)


def test_condition_known_while_tracing():
    with pytest.raises(DefinitionError, match="known while tracing"):
        @workflow
        def wf(n: int) -> int:
            return conditional("c").if_(3 > 1).then(one(n=n)).else_().then(one(n=0))


def test_comparing_unlike_types():
    @workflow
    def wf(n: int) -> int:
        return conditional("c").if_(n == "a").then(one(n=n)).else_().then(one(n=0))

    with pytest.raises(DefinitionError, match="numeric value is compared with 'a'"):
        compile_workflow(wf, RUNNER)


def test_subworkflow_with_a_missing_input():
    @workflow
    def sub(a: int, b: int) -> int:
        return one(n=a)

    with pytest.raises(DefinitionError, match="subworkflow 'test_subworkflow_with_a_missing_input.<locals>.sub' is "
                                              "missing input 'b'"):
        @workflow
        def wf(n: int) -> int:
            return sub(a=n)


def test_workflow_calling_itself_is_refused():
    with pytest.raises(DefinitionError, match="calls itself"):
        @workflow
        def loops(n: int) -> int:
            return loops(n=one(n=n))


def test_several_outputs_must_be_returned_as_a_tuple():
    with pytest.raises(DefinitionError, match="declares 2 outputs"):
        @workflow
        def wf(n: int) -> Tuple[int, str]:
            return one(n=n)


def test_unpacking_a_single_output_is_refused():
    with pytest.raises(DefinitionError, match="cannot be unpacked"):
        @workflow
        def wf(n: int) -> int:
            a, b = one(n=n)
            return a


def test_map_task_golden():
    wf = loader.load_paths([ROOT / "tests" / "golden" / "mapped.py"]).workflow("mapped")
    asl = compile_workflow(wf, RUNNER)
    _check("mapped", asl)
    states = asl["States"]
    assert states["n0-numbers"]["Next"] == "n1-map-scale"
    prepare, items = states["n1-map-scale"], states["n1-items"]
    assert prepare["Parameters"]["mode"] == "map_prepare" and prepare["ResultPath"] == "$.map"
    assert prepare["Parameters"]["bindings"] == {"factor": {"const": 2}, "x": {"map": {"node": "n0", "output": "o0"}}}
    assert items["Type"] == "Map" and items["ItemsPath"] == "$.map.items" and items["MaxConcurrency"] == 4
    assert items["ResultPath"] is None   # items keep their results in S3; the state does not grow with them
    item = items["ItemProcessor"]["States"]["n1-scale"]
    assert item["Parameters"]["map_index.$"] == "$.index" and item["Catch"][0]["Next"] == "item-failed"
    assert states["n1-collect"]["Parameters"]["mode"] == "map_collect"
    assert states["n1-collect"]["ResultPath"] == "$.results.n1" and states["n1-tidy"]["Next"] == "n2-total"


@task
def scalar(x: int) -> int:
    return x


def test_map_over_something_that_is_not_a_list():
    from chalicelib import map_task

    with pytest.raises(DefinitionError, match="no input is one: got {'x': Promise"):
        @workflow
        def wf(n: int) -> list:
            return map_task(scalar)(x=scalar(x=n))
    with pytest.raises(DefinitionError, match="no input is one: got {'x': 3}"):
        @workflow
        def wf2(n: int) -> list:
            return map_task(scalar)(x=3)


def test_map_task_keywords_are_checked():
    from chalicelib import map_task

    with pytest.raises(DefinitionError, match="min_success_ratio must be between 0 and 1"):
        map_task(scalar, min_success_ratio=1.5)
    with pytest.raises(DefinitionError, match="partial fixes 'y', which is not an input"):
        import functools
        map_task(functools.partial(scalar, y=1))
    with pytest.raises(DefinitionError, match="maps a @task; got WorkflowDef"):
        @workflow
        def inner(x: int) -> int:
            return scalar(x=x)
        map_task(inner)


def test_map_task_outside_a_workflow_runs_each_item():
    from chalicelib import map_task

    assert map_task(scale_local)(x=[1, 2, 3], k=10) == [10, 20, 30]


@task
def scale_local(x: int, k: int) -> int:
    return x * k


def test_launch_plan_call_golden():
    from chalicelib.compile.launching import START_SYNC

    defs = loader.load_paths([ROOT / "tests" / "integration" / "flows" / "ctl_flows.py"])
    asl = compile_workflow(defs.workflow("launches"), RUNNER)
    state = asl["States"]["n1-launch-child_lp"]
    assert state["Resource"] == START_SYNC
    assert state["Parameters"]["StateMachineArn"] == \
        "arn:aws:states:us-east-1:123456789012:stateMachine:cascade-dev-ctl_flows-child"
    assert state["Parameters"]["Input"]["inputs"] == {"x.$": "$.results.n0.outputs.o0", "factor": 10, "label": "lp"}
    assert state["Parameters"]["Input"]["meta"]["launch_plan"] == "child_lp"
    assert state["ResultSelector"] == {"outputs.$": "$.Output.outputs"} and state["ResultPath"] == "$.results.n1"


def test_launch_plan_fixed_input_cannot_be_passed():
    from chalicelib import LaunchPlan

    @workflow
    def kid(x: int, k: int = 1) -> int:
        return one(n=x)

    plan = LaunchPlan.get_or_create(kid, name="kid_fixed", fixed_inputs={"k": 2})
    with pytest.raises(DefinitionError, match="input 'k' is fixed by the launch plan"):
        @workflow
        def wf(n: int) -> int:
            return plan(x=n, k=3)
    with pytest.raises(DefinitionError, match="is missing input 'x'"):
        @workflow
        def wf2(n: int) -> int:
            return plan()


def test_gates_golden():
    from chalicelib.compile.gates import WAIT_FOR_TOKEN

    defs = loader.load_paths([ROOT / "tests" / "integration" / "flows" / "ctl_flows.py"])
    wf = defs.workflow("gated")
    asl = compile_workflow(wf, RUNNER)
    _check("gated", asl)
    states = asl["States"]
    assert states["n1-sleep-sleep"] == {"Type": "Wait", "Seconds": 1, "Next": "n2-input-threshold"}
    gate = states["n2-input-threshold"]
    assert gate["Resource"] == WAIT_FOR_TOKEN and gate["TimeoutSeconds"] == 600
    assert gate["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert gate["Parameters"]["Payload"]["gate"]["expected_type"] == "int" and gate["ResultPath"] == "$.results.n2"
    assert states["n4-approve-publish"]["ResultPath"] == "$.gate"
    assert states["n4-approved"]["Parameters"] == {"outputs": {"o0.$": "$.results.n3.outputs.o0"}}
    # >> orders the sleep after the first task, and the input after the sleep
    assert [[n.id for n in level] for level in __import__("chalicelib.compile.asl", fromlist=["levels"]).levels(wf.graph)] \
        == [["n0"], ["n1"], ["n2"], ["n3", "n5"], ["n4"]]


def test_gate_definition_errors():
    from datetime import timedelta

    from chalicelib import approve, sleep, wait_for_input

    with pytest.raises(DefinitionError, match="only works inside a @workflow body"):
        sleep(timedelta(seconds=1))
    with pytest.raises(DefinitionError, match="expected_type .* cannot be signalled"):
        @workflow
        def wf(n: int) -> int:
            return wait_for_input("x", timeout=timedelta(hours=1), expected_type=set)
    with pytest.raises(DefinitionError, match="approves a task's output; got 3"):
        @workflow
        def wf2(n: int) -> int:
            return approve(3, "ok", timeout=timedelta(hours=1))
    with pytest.raises(DefinitionError, match="between 0 and 365 days"):
        @workflow
        def wf3(n: int) -> int:
            sleep(timedelta(days=400))
            return one(n=n)


def test_signal_values_are_checked_against_the_expected_type():
    from chalicelib.cli.signal import parse_value
    from chalicelib.errors import InputError

    assert parse_value("42", "int", "g") == 42 and parse_value("yes", "bool", "g") is True
    assert parse_value('{"a": 1}', "json", "g") == {"a": 1} and parse_value("x y", "str", "g") == "x y"
    for text, kind in (("4.5", "int"), ("maybe", "bool"), ("nan-ish", "float"), ("3", "json")):
        with pytest.raises(InputError, match=f"expects {kind}"):
            parse_value(text, kind, "g")


def test_dynamic_task_compiles_to_build_then_start_sync():
    from chalicelib.compile.launching import START_SYNC

    defs = loader.load_paths([ROOT / "tests" / "integration" / "flows" / "ctl_flows.py"])
    asl = compile_workflow(defs.workflow("dynamic_fan"), RUNNER)
    build, run_ = asl["States"]["n1-fan"], asl["States"]["n1-run"]
    assert build["Resource"] == RUNNER and build["ResultPath"] == "$.dynamic" and build["Next"] == "n1-run"
    assert run_["Resource"] == START_SYNC and run_["Parameters"]["StateMachineArn.$"] == "$.dynamic.state_machine"
    assert run_["ResultPath"] == "$.results.n1" and asl["States"]["n1-tidy"]["Next"] == "n2-total"


def test_dynamic_body_is_traced_with_the_inputs_values():
    from chalicelib.runtime.dynamic import build

    defs = loader.load_paths([ROOT / "tests" / "integration" / "flows" / "ctl_flows.py"])
    fan = defs.tasks["ctl_flows.fan"]
    even = build(fan, {"n": 4, "factor": 3})
    assert [n.task.short_name for n in even.nodes] == ["scale"] * 4
    assert even.nodes[2].bindings == {"x": {"const": 2}, "factor": {"const": 3}}
    assert even.output_bindings["o0"] == {"list": [{"node": f"n{i}", "output": "o0"} for i in range(4)]}
    odd = build(fan, {"n": 5, "factor": 3})
    assert [n.task.short_name for n in odd.nodes] == ["show", "show_len"]
    asl = compile_workflow(even, RUNNER)
    assert asl["States"]["Outputs"]["Parameters"]["outputs"] == {"o0.$": "States.Array($.results.n0.outputs.o0, "
        "$.results.n1.outputs.o0, $.results.n2.outputs.o0, $.results.n3.outputs.o0)"}


def test_eager_is_refused_with_the_alternative():
    from chalicelib import eager

    with pytest.raises(DefinitionError, match="use @dynamic"):
        eager(lambda: None)
