"""The stage template's generated parts (chalicelib/deploy/template.py) and the stack states a deploy refuses
or recovers from (chalicelib/deploy/stack.py), without AWS."""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.deploy import stack
from chalicelib.deploy.appinfo import AppInfo, S3Handler
from chalicelib.deploy.build import load_infra, normalized_zip, stage_options
from chalicelib.deploy.errors import DeployError, StackError
from chalicelib.deploy.stage_config import TASK_CODE_FUNCTIONS
from chalicelib.deploy.template import (
    StageOptions, bootstrap_template, function_id, merge_template, sub, symbolic_stage,
)
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
    merged = merge_template(infra, "dev", APP, StageOptions(parallelization_factor=4), "deploy/layers/x.zip",
                            functions_layer_key="deploy/layers/f.zip")
    res = merged["Resources"]
    event = res["OnArtifactEvent"]["Properties"]["Events"]["OnArtifactEventDynamodbEventSource"]["Properties"]
    assert event["ParallelizationFactor"] == 4 and event["Stream"] == {"Fn::GetAtt": ["ArtifactsTable", "StreamArn"]}
    # every function's dependencies come from the functions layer, listed first; task code adds the tasks layer
    for fn in APP.functions:
        layers = res[function_id(fn)]["Properties"]["Layers"]
        assert layers == [{"Ref": "FunctionsLayer"}] + ([{"Ref": "TasksLayer"}] if fn in TASK_CODE_FUNCTIONS else [])
    assert res["TaskRunner"]["Properties"]["Layers"] == [{"Ref": "FunctionsLayer"}, {"Ref": "TasksLayer"}]
    assert res["OnArtifactEvent"]["Properties"]["Layers"] == [{"Ref": "FunctionsLayer"}]
    functions_layer = res["FunctionsLayer"]
    assert functions_layer["Type"] == "AWS::Lambda::LayerVersion"
    assert functions_layer["Properties"]["Content"]["S3Key"] == "deploy/layers/f.zip"
    assert functions_layer["Properties"]["LayerName"] == "cascade-dev-functions"
    assert res["TaskRunner"]["Properties"]["FunctionName"] == "cascade-dev-task_runner"
    assert res["APIHandler"]["Properties"]["FunctionName"] == "cascade-dev"
    assert res["ArtifactBucket"]["DependsOn"] == ["OnUploadS3Permission"]
    assert res["TasksLayer"]["Properties"]["Content"]["S3Key"] == "deploy/layers/x.zip"
    # the bucket is named, not referenced, by the functions: no dependency cycle through its notification
    for name in ("TaskRunner", "OnUpload", "OnUploadRole", "TasksLayer", "FunctionsLayer", "OnUploadS3Permission"):
        assert "ArtifactBucket" not in json.dumps(res[name]), name
    assert "NotificationConfiguration" not in bootstrap_template(merged)["Resources"]["ArtifactBucket"]["Properties"]
    assert "NotificationConfiguration" not in infra["Resources"]["ArtifactBucket"]["Properties"]  # input untouched


def test_without_the_functions_layer_only_task_code_lists_a_layer():
    merged = merge_template(load_infra(ROOT), "dev", APP, StageOptions(), "deploy/layers/x.zip")
    res = merged["Resources"]
    assert "FunctionsLayer" not in res and "Layers" not in res["OnArtifactEvent"]["Properties"]
    assert res["TaskRunner"]["Properties"]["Layers"] == [{"Ref": "TasksLayer"}]


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


def test_the_function_zip_gets_checked_hash_bytecode_of_its_modules(tmp_path: Path):
    source = tmp_path / "deployment.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("app.py", "import pkg.mod\n")
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg/mod.py", "VALUE = 1\n")
        zf.writestr("pkg/data.json", "{}")
        zf.writestr(f"pkg/__pycache__/mod.{sys.implementation.cache_tag}.pyc", b"timestamp-based, replaced")
    digests = {normalized_zip(source, tmp_path / f"{n}.zip", compile_code=True) for n in ("a", "b")}
    assert len(digests) == 1  # deterministic: the same code is the same content-addressed key
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        names = set(zf.namelist())
        pyc = zf.read(f"pkg/__pycache__/mod.{tag}.pyc")
        zf.extractall(tmp_path / "task")
    assert {f"__pycache__/app.{tag}.pyc", f"pkg/__pycache__/__init__.{tag}.pyc"} <= names
    assert not any("data" in n and n.endswith(".pyc") for n in names)
    assert int.from_bytes(pyc[4:8], "little") == 0b11  # hash-based, checked against the source
    assert marshal.loads(pyc[16:]).co_filename == "/var/task/pkg/mod.py"  # where Lambda unpacks the zip

    def value() -> str:
        proc = subprocess.run([sys.executable, "-S", "-c", "import pkg.mod; print(pkg.mod.VALUE)"],
                              cwd=tmp_path / "task", env={"PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True,
                              text=True, check=True)
        return proc.stdout.strip()

    assert value() == "1"
    (tmp_path / "task" / "pkg" / "mod.py").write_text("VALUE = 2\n")  # edited after packaging (the console)
    assert value() == "2"
