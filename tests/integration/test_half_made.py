"""A task failing half-way never leaves a half-made artifact visible; `gc` removes what it left behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from chalicelib import aws
from chalicelib.cli import main
from chalicelib.errors import CascadeError
from chalicelib.local.faults import FaultInjector
from chalicelib.ops.launch import check_inputs, start_workflow
from tests.integration.support import executions, register, store, triggered, write_version


def object_keys(cloud: Any) -> set[str]:
    s3 = aws.client("s3", cloud.settings.region)
    return {o["Key"] for o in s3.list_objects_v2(Bucket=cloud.settings.bucket).get("Contents", [])}


def gc(cloud: Any, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["gc", "--json", *args])  # the stage of the environment: this cloud
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_half_made_artifact_is_invisible_and_collected(cloud):
    register(cloud)
    good = write_version(cloud, "readings", {"site": "north"})
    cloud.wait_quiet()
    before = object_keys(cloud)
    faults = FaultInjector(1.0, operations=["TransactWriteItems"], lost_share=0.0).attach(
        aws.client("dynamodb", cloud.settings.region))
    with pytest.raises(Exception) as failure:  # the data object is written, the metadata item never is
        write_version(cloud, "readings", {"site": "north"})
    faults.detach()
    assert not isinstance(failure.value, CascadeError) and faults.surfaced == 1
    [orphan] = object_keys(cloud) - before
    aws.client("s3", cloud.settings.region).put_object(Bucket=cloud.settings.bucket, Key="artifacts/README.txt",
                                                       Body=b"not an artifact")
    cloud.wait_quiet()

    assert [v.version for v in store(cloud).versions("readings")] == [good.version]  # invisible
    assert store(cloud).latest("readings", {"site": "north"}).version == good.version
    assert sorted(e["launch_plan"] for e in executions(cloud)) == ["every_reading", "north_only"]  # good's only

    assert gc(cloud, "--dry-run")["orphans"] == []  # younger than the default grace period of 24 hours
    by_stage = CliRunner().invoke(main, ["gc", "--stage", "local", "--dry-run", "--grace-hours", "0", "--json"])
    assert [o["key"] for o in json.loads(by_stage.stdout)["orphans"]] == [orphan]  # names derived from the stage
    dry = gc(cloud, "--dry-run", "--grace-hours", "0")
    assert [o["key"] for o in dry["orphans"]] == [orphan] and dry["deleted"] == []
    assert dry["unknown"] == ["artifacts/README.txt"]
    assert orphan in object_keys(cloud)

    done = gc(cloud, "--grace-hours", "0")
    assert done["deleted"] == [orphan]
    assert orphan not in object_keys(cloud) and good.uri.split("/", 3)[3] in object_keys(cloud)
    assert "artifacts/README.txt" in object_keys(cloud)
    assert gc(cloud, "--grace-hours", "0")["orphans"] == []


def test_a_task_failing_between_its_writes_is_retried_into_exactly_one_version(cloud):
    """Metadata write throttled past botocore's attempts: the task raises TransientAwsError, the state
    machine retries it (compile/asl.py), and the retry finds its data object and completes the version."""
    defs = register(cloud)
    region = cloud.settings.region
    faults = FaultInjector(0.0).attach(aws.client("dynamodb", region))
    faults.script("TransactWriteItems", *["throttled"] * 5)  # every attempt of the version write (it prints nothing)
    try:
        wf = defs.workflow("ingest")
        arn = start_workflow(aws.client("stepfunctions", region), cloud.settings, wf,
                             check_inputs(wf, {"site": "south", "value": 3}))
        cloud.wait_quiet(60)
    finally:
        faults.detach()
    sfn = aws.client("stepfunctions", region)
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    history = sfn.get_execution_history(executionArn=arn)["events"]
    errors = [e.get("lambdaFunctionFailedEventDetails", {}).get("error") for e in history
              if e["type"] == "LambdaFunctionFailed"]
    assert errors == ["TransientAwsError"]
    [version] = store(cloud).versions("readings")
    assert store(cloud).load(version) == {"site": "south", "value": 3}
    assert len([k for k in object_keys(cloud) if k.startswith("artifacts/")]) == 1
    assert triggered(cloud, version.version) == ["every_reading"]
