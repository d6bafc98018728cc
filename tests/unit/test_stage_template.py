"""The stage template's generated parts (chalicelib/deploy/template.py) and the stack states a deploy refuses
or recovers from (chalicelib/deploy/stack.py), without AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.deploy import stack
from chalicelib.deploy.appinfo import AppInfo, S3Handler
from chalicelib.deploy.build import load_infra, stage_options
from chalicelib.deploy.errors import DeployError, StackError
from chalicelib.deploy.template import StageOptions, bootstrap_template, merge_template, sub, symbolic_stage
from chalicelib.deploy.workspace import copy_project

ROOT = Path(__file__).resolve().parents[2]
APP = AppInfo(app_name="cascade", functions=["api_handler", "on_artifact_event", "on_upload", "task_runner"],
              s3_handlers=[S3Handler(function="on_upload", bucket="b", prefix="uploads/", events=["s3:ObjectCreated:*"])])


def test_sub_wraps_references_and_leaves_intrinsics_and_plain_strings():
    assert sub({"a": "x-${AWS::Region}", "b": "plain", "c": {"Ref": "X"}, "d": ["${T.Arn}", 3]}) == {
        "a": {"Fn::Sub": "x-${AWS::Region}"}, "b": "plain", "c": {"Ref": "X"}, "d": [{"Fn::Sub": "${T.Arn}"}, 3]}


def test_symbolic_stage_names_no_account():
    env = json.dumps(symbolic_stage("dev").environment())
    assert "123456789012" not in env and "${AWS::AccountId}" in env and "${ArtifactsTable.StreamArn}" in env


def test_merge_template_wires_the_stream_upload_layer_and_options():
    infra = load_infra(ROOT)
    merged = merge_template(infra, "dev", APP, StageOptions(parallelization_factor=4), "deploy/layers/x.zip")
    res = merged["Resources"]
    event = res["OnArtifactEvent"]["Properties"]["Events"]["OnArtifactEventDynamodbEventSource"]["Properties"]
    assert event["ParallelizationFactor"] == 4 and event["Stream"] == {"Fn::GetAtt": ["ArtifactsTable", "StreamArn"]}
    assert res["TaskRunner"]["Properties"]["Layers"] == [{"Ref": "TasksLayer"}]
    assert "Layers" not in res["OnArtifactEvent"]["Properties"]
    assert res["TaskRunner"]["Properties"]["FunctionName"] == "cascade-dev-task_runner"
    assert res["APIHandler"]["Properties"]["FunctionName"] == "cascade-dev"
    assert res["ArtifactBucket"]["DependsOn"] == ["OnUploadS3Permission"]
    assert res["TasksLayer"]["Properties"]["Content"]["S3Key"] == "deploy/layers/x.zip"
    # the bucket is named, not referenced, by the functions: no dependency cycle through its notification
    for name in ("TaskRunner", "OnUpload", "OnUploadRole", "TasksLayer", "OnUploadS3Permission"):
        assert "ArtifactBucket" not in json.dumps(res[name]), name
    assert "NotificationConfiguration" not in bootstrap_template(merged)["Resources"]["ArtifactBucket"]["Properties"]
    assert "NotificationConfiguration" not in infra["Resources"]["ArtifactBucket"]["Properties"]  # input untouched


def test_stage_options_come_from_the_stage_config_and_bad_ones_name_the_key(tmp_path: Path):
    project = copy_project(ROOT, tmp_path / "p")
    config_path = project / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["cascade"] = {"uploads_expiration_days": 3}
    config_path.write_text(json.dumps(config))
    assert stage_options(project, "dev").parameters()["UploadsExpirationDays"] == "3"
    assert stage_options(project, "prod").parameters()["UploadsExpirationDays"] == "7"
    config["stages"]["dev"]["cascade"] = {"parallelization_factor": 11, "typo": 1}
    config_path.write_text(json.dumps(config))
    with pytest.raises(DeployError, match=r"stages\.dev\.cascade: parallelization_factor: .*typo"):
        stage_options(project, "dev")


class _Cfn:
    """A CloudFormation client holding one stack in a given status (the states moto cannot produce)."""

    def __init__(self, status: str) -> None:
        self.status, self.calls = status, []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"Stacks": [{"StackStatus": self.status, "Parameters": [], "Outputs": []}]}

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"StackEvents": [{"LogicalResourceId": "TaskRunner", "ResourceStatus": "UPDATE_FAILED",
                                 "ResourceStatusReason": "role missing"}]}

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            raise AssertionError(f"unexpected {name}")
        return call


@pytest.mark.parametrize("status, fix", [
    ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback --stack-name cascade-dev-infra"),
    ("DELETE_FAILED", "python -m chalicelib destroy --stage dev"),
])
def test_a_broken_stack_is_one_line_naming_the_fix_and_nothing_is_changed(status: str, fix: str):
    cfn = _Cfn(status)
    with pytest.raises(StackError) as info:
        stack.deploy_change_set(cfn, "cascade-dev-infra", "dev", "{}", {})
    message = str(info.value)
    assert status in message and fix in message and "role missing" in message and "\n" not in message
    assert cfn.calls == []
