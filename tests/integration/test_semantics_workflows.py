"""Multi-task workflows: a diamond runs its independent tasks in parallel, passes a ~1 MB DataFrame by
reference through S3, records its outputs; a task failure fails the run with the task's message."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.integration.conftest import FLOWS, load, run, stage_of


def test_diamond_runs_independent_tasks_in_parallel_and_passes_data_by_reference(cloud):
    rep = run(cloud, load("sem_workflows"), "diamond")
    (ex,) = rep["executions"]
    assert ex["status"] == "SUCCEEDED", ex.get("cause")
    out = ex["outputs"]["o0"]                       # the workflow output, recorded on the execution
    left, right = out["left"], out["right"]
    assert left["start"] < right["end"] and right["start"] < left["end"], "left and right did not overlap"
    assert out["rows"] == 65_000 and out["bytes"] >= 1_000_000 and out["check"] == 0

    stage = stage_of(cloud)
    events = stage.sfn.get_execution_history(executionArn=ex["id"], maxResults=1000)["events"]
    payloads = [json.dumps(e, default=str) for e in events]
    assert max(len(p) for p in payloads) < 16_000, "a large value travelled inline in the state"
    assert any("$ref" in p and "/n0/o0.parquet" in p for p in payloads)

    from chalicelib import aws

    s3 = aws.client("s3", cloud.settings.region)
    run_id = ex["id"].rsplit(":", 1)[-1]
    head = s3.head_object(Bucket=cloud.settings.bucket, Key=f"runs/{run_id}/n0/o0.parquet")
    assert head["ContentLength"] > 900_000


def test_task_failure_fails_the_run_with_the_task_message(cloud):
    rep = run(cloud, load("sem_workflows"), "failing")
    (ex,) = rep["executions"]
    assert ex["status"] == "FAILED"
    assert ex["error"] == "ValueError" and ex["cause"] == "bad input x=-1: must be positive"


def test_task_failure_message_in_the_cli():
    from chalicelib.cli import main

    result = CliRunner().invoke(main, ["run", str(FLOWS / "sem_workflows.py"), "failing"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "failed: ValueError: bad input x=-1: must be positive" in text
