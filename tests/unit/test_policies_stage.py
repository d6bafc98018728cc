"""Stage config generation (the keys deploy owns in .chalice/config.json), the stream mapping's settings, and
which workflow files registration accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.registration import workflow_files
from chalicelib.deploy.stage_config import stage_section, write_stage_config
from chalicelib.deploy.wiring import desired_settings, differences
from chalicelib.deploy.workspace import copy_project, example_stage

ROOT = Path(__file__).resolve().parents[2]
STAGE = example_stage("dev")
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:cascade-dev-tasks:3"


def test_stage_section_sets_names_policies_and_layer_and_keeps_user_keys():
    current = {"lambda_memory_size": 512, "environment_variables": {"MY_FLAG": "1", "CASCADE_BUCKET": "stale"},
               "lambda_functions": {"task_runner": {"reserved_concurrency": 10, "layers": ["old"]},
                                    "on_artifact_event": {"layers": ["should-go"]}}}
    section = stage_section(current, STAGE, ["on_artifact_event", "task_runner"], LAYER)
    env = section["environment_variables"]
    assert env["MY_FLAG"] == "1"
    assert env["CASCADE_BUCKET"] == STAGE.outputs.bucket
    assert env["CASCADE_ARTIFACTS_STREAM_ARN"] == STAGE.outputs.artifacts_stream_arn
    assert env["CASCADE_TASK_RUNNER_ARN"] == "arn:aws:lambda:us-east-1:123456789012:function:cascade-dev-task_runner"
    assert section["lambda_memory_size"] == 512 and section["autogen_policy"] is False
    fns = section["lambda_functions"]
    assert fns["task_runner"] == {"reserved_concurrency": 10, "layers": [LAYER],
                                  "iam_policy_file": "policies/dev/task_runner.json"}
    assert fns["on_artifact_event"] == {"iam_policy_file": "policies/dev/on_artifact_event.json"}  # no pandas layer
    assert current["environment_variables"]["CASCADE_BUCKET"] == "stale"  # input untouched


def test_write_stage_config_is_idempotent_and_leaves_other_stages(tmp_path: Path):
    project = copy_project(ROOT, tmp_path / "p")
    before = json.loads((project / ".chalice" / "config.json").read_text())
    functions = ["on_artifact_event", "task_runner"]
    first = write_stage_config(project, STAGE, functions, LAYER)
    assert first == [".chalice/config.json", ".chalice/policies/dev/on_artifact_event.json",
                     ".chalice/policies/dev/task_runner.json"]
    assert write_stage_config(project, STAGE, functions, LAYER) == []
    after = json.loads((project / ".chalice" / "config.json").read_text())
    assert after["stages"]["prod"] == before["stages"]["prod"]
    assert after["lambda_functions"] == before["lambda_functions"]
    policy = json.loads((project / ".chalice" / "policies" / "dev" / "task_runner.json").read_text())
    assert policy["Version"] == "2012-10-17"


def test_write_stage_config_refuses_another_app_name(tmp_path: Path):
    project = copy_project(ROOT, tmp_path / "p")
    config = project / ".chalice" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "app_name": "other"}))
    with pytest.raises(DeployError, match="app_name 'other'"):
        write_stage_config(project, STAGE, ["task_runner"], LAYER)


def test_stream_mapping_differences():
    desired = desired_settings(STAGE.outputs.trigger_dlq_arn)
    chalice_made = {"UUID": "u", "BatchSize": 100, "FunctionResponseTypes": [], "MaximumRetryAttempts": -1,
                    "MaximumRecordAgeInSeconds": -1, "BisectBatchOnFunctionError": False}
    assert differences(chalice_made, desired) == desired
    wired = {**chalice_made, **desired}
    assert differences(wired, desired) == {}
    moved = {**wired, "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:other"}}}
    assert list(differences(moved, desired)) == ["DestinationConfig"]
    assert desired["MaximumRetryAttempts"] > 0 and desired["MaximumRecordAgeInSeconds"] > 0


def test_registration_accepts_only_deployed_workflow_files():
    files = workflow_files([ROOT / "chalicelib" / "workflows"])
    assert [f.name for f in files] == ["trigger_on_artifact.py"]
    with pytest.raises(DeployError, match="daily_sales.py is not part of the deployment.*chalicelib/workflows"):
        workflow_files([ROOT / "examples" / "daily_sales.py"])
