"""IAM: one exact policy per function, no wildcard actions, resources scoped to the stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.deploy.appinfo import app_info
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.policies import POLICIES, UNSCOPABLE, policy_for
from chalicelib.naming import SCHEDULE, TASK_RUNNER, TRIGGER, UPLOAD
from chalicelib.deploy.workspace import example_stage

ROOT = Path(__file__).resolve().parents[2]
STAGE = example_stage("dev")


def allow_statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    statements = doc["Statement"]
    return [s for s in (statements if isinstance(statements, list) else [statements]) if s["Effect"] == "Allow"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_problems(doc: dict[str, Any]) -> list[str]:
    """Allow statements with a wildcard action, or with Resource "*"."""
    problems = []
    for s in allow_statements(doc):
        problems += [f"{s.get('Sid')}: action {a!r}" for a in as_list(s["Action"]) if "*" in str(a)]
        unscopable = set(as_list(s["Action"])) <= UNSCOPABLE
        problems += [f"{s.get('Sid')}: resource '*'" for r in as_list(s["Resource"]) if r == "*" and not unscopable]
        if "NotAction" in s or "NotResource" in s:
            problems.append(f"{s.get('Sid')}: NotAction/NotResource")
    return problems


def actions(doc: dict[str, Any]) -> set[str]:
    return {a for s in allow_statements(doc) for a in as_list(s["Action"])}


def deployed_functions() -> list[str]:
    # on_upload is planned for even before app.py declares it
    return sorted(set(app_info(ROOT).functions) | {UPLOAD})


def test_every_function_in_app_py_has_a_policy():
    missing = [fn for fn in app_info(ROOT).functions if fn not in POLICIES]
    assert missing == []


@pytest.mark.parametrize("function", deployed_functions())
def test_policy_has_no_wildcard_action_and_no_star_resource(function: str):
    assert wildcard_problems(policy_for(function, STAGE)) == []


@pytest.mark.parametrize("function", deployed_functions())
def test_every_resource_belongs_to_the_stage(function: str):
    for s in allow_statements(policy_for(function, STAGE)):
        if set(as_list(s["Action"])) <= UNSCOPABLE:
            continue
        for resource in as_list(s["Resource"]):
            assert "cascade-dev" in resource, (s["Sid"], resource)
            assert resource.startswith("arn:aws:"), resource


def test_wildcard_check_catches_wildcards():
    doc = {"Statement": [{"Sid": "x", "Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"},
                         {"Sid": "d", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    assert wildcard_problems(doc) == ["x: action 's3:Get*'", "x: resource '*'"]


def test_only_the_trigger_starts_executions_and_only_this_stages_state_machines():
    for fn in deployed_functions():
        doc = policy_for(fn, STAGE)
        starts = [s for s in allow_statements(doc) if "states:StartExecution" in as_list(s["Action"])]
        if fn in (TRIGGER, SCHEDULE):  # artifact triggers and schedule ticks
            assert [s["Resource"] for s in starts] == [[STAGE.arn("states", "stateMachine:cascade-dev-*")]]
        else:
            assert starts == []


def test_trigger_reads_only_the_artifact_stream_and_sends_only_to_its_dlq():
    doc = policy_for(TRIGGER, STAGE)
    by_sid = {s["Sid"]: s for s in allow_statements(doc)}
    assert by_sid["ReadArtifactStream"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/cascade-dev-artifacts/stream/*"]
    assert by_sid["DeadLetters"]["Resource"] == [STAGE.outputs.trigger_dlq_arn]
    assert not any(a.startswith("s3:") for a in actions(doc))  # the trigger never touches data


def test_task_runner_writes_only_under_artifacts_and_runs():
    doc = policy_for(TASK_RUNNER, STAGE)
    writes = [r for s in allow_statements(doc) if "s3:PutObject" in s["Action"] for r in s["Resource"]]
    bucket = STAGE.bucket_arn
    assert sorted(writes) == [f"{bucket}/artifacts/*", f"{bucket}/runs/*"]
    assert "s3:DeleteObject" not in actions(doc)


def test_unknown_function_is_refused_with_the_fix():
    with pytest.raises(DeployError, match="'reporter'.*chalicelib/deploy/policies.py"):
        policy_for("reporter", STAGE)


# -- infra/template.yaml ---------------------------------------------------------------------------

class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, tag, node: {tag: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else loader.construct_mapping(node))})


def template() -> dict[str, Any]:
    return yaml.load((ROOT / "infra" / "template.yaml").read_text(), Loader=_CfnLoader)


def test_template_policies_have_no_wildcard_allow():
    docs = []
    for name, res in template()["Resources"].items():
        props = res.get("Properties", {})
        for policy in props.get("Policies", []):
            docs.append((name, policy["PolicyDocument"]))
        if res["Type"] in ("AWS::S3::BucketPolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs.append((name, props["PolicyDocument"]))
    assert docs
    assert [(name, wildcard_problems(doc)) for name, doc in docs if wildcard_problems(doc)] == []


def test_step_functions_role_may_invoke_only_the_task_runner_and_start_the_stages_state_machines():
    role = template()["Resources"]["StatesRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert [s["Action"] for s in statements] == [
        "lambda:InvokeFunction", "states:StartExecution", ["states:DescribeExecution", "states:StopExecution"],
        ["events:PutTargets", "events:PutRule", "events:DescribeRule"]]
    resources = [r["Sub"] for r in statements[0]["Resource"]]
    assert all(r.split(":function:")[1].startswith("${AppName}-${Stage}-task_runner") for r in resources)
    # child executions (a launch plan called in a workflow, @dynamic) only of this stage's state machines
    assert statements[1]["Resource"]["Sub"].endswith(":stateMachine:${AppName}-${Stage}-*")
    assert statements[2]["Resource"]["Sub"].endswith(":execution:${AppName}-${Stage}-*:*")
    assert statements[3]["Resource"]["Sub"].endswith(":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
