"""Structured JSON logs with correlation ids, from the trigger and from the task runner."""

from __future__ import annotations

import json

from chalicelib import aws
from tests.integration.support import (
    executions,
    invoke_logged,
    records_of,
    register,
    set_stream_delivery,
    trigger_function,
    write_version,
)


def test_trigger_lines_carry_artifact_version_launch_plan_and_execution(cloud):
    register(cloud)
    set_stream_delivery(cloud, False)
    v = write_version(cloud, "readings", {"site": "north"})
    [record] = records_of(cloud, {v.version})
    _, lines = invoke_logged(cloud, trigger_function(cloud), {"Records": [record]})
    runs = [line for line in lines if line["message"] == "run request"]
    assert sorted(line["launch_plan"] for line in runs) == ["every_reading", "north_only"]
    cloud.wait_quiet()
    names = {e["launch_plan"]: e["name"] for e in executions(cloud)}
    for line in runs:
        assert line["service"] == "trigger" and line["level"] == "INFO" and line["outcome"] == "started"
        assert (line["artifact"], line["version"]) == ("readings", v.version)
        assert line["execution"] == names[line["launch_plan"]]
        assert line["sequence_number"] == record["dynamodb"]["SequenceNumber"] and line["event_id"]
        assert line["claim"] == "new"


def test_task_runner_lines_carry_execution_node_launch_plan_and_trigger(cloud):
    register(cloud)
    v = write_version(cloud, "readings", {"site": "south"})
    cloud.wait_quiet()
    [ex] = [e for e in executions(cloud) if e["launch_plan"] == "every_reading"]
    sfn = aws.client("stepfunctions", cloud.settings.region)
    history = sfn.get_execution_history(executionArn=ex["arn"])["events"]
    [scheduled] = [e for e in history if e["type"] == "LambdaFunctionScheduled"]
    payload = json.loads(scheduled["lambdaFunctionScheduledEventDetails"]["input"])  # what the runner received

    _, lines = invoke_logged(cloud, f"{cloud.settings.prefix}task_runner", payload)  # a redelivered Task

    by_message = {line["message"]: line for line in lines if line.get("service") == "task_runner"}
    assert set(by_message) == {"task started", "task finished"}
    for line in by_message.values():
        assert line["execution"] == ex["name"] and line["launch_plan"] == "every_reading"
        assert line["workflow"] == "fanout.summary" and line["node"] == payload["node"]
        assert (line["trigger_artifact"], line["trigger_version"]) == ("readings", v.version)
    # the runner's keys are removed when the task ends: none leak into the next invocation on this thread
    set_stream_delivery(cloud, False)
    w = write_version(cloud, "alerts", {})
    _, later = invoke_logged(cloud, trigger_function(cloud), {"Records": records_of(cloud, {w.version})})
    assert later and all("node" not in line and "workflow" not in line for line in later)
