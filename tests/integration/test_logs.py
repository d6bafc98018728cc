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


# -- `--json`: exactly one JSON document on stdout, log lines on stderr --------------------------------

def _one_document(proc) -> object:
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return json.loads(proc.stdout)  # fails on anything before or after the one document


def test_json_commands_print_one_document_and_log_to_stderr(monkeypatch):
    import subprocess
    import sys
    from datetime import datetime, timezone

    import pandas as pd

    from chalicelib.ops.stage import resolve
    from chalicelib.store.models import make_version

    from tests.conftest import EXAMPLES, ROOT
    from tests.integration.test_uploads_cli import LocalProcess, free_port

    proc = subprocess.run([sys.executable, "-m", "chalicelib", "run", str(EXAMPLES / "uploads.py"), "price_check",
                           "--prices", '{"items": [1]}', "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    report = _one_document(proc)
    assert [e["status"] for e in report["executions"]] == ["SUCCEEDED"]

    local = LocalProcess(free_port())  # a local cloud in another process; the commands below talk to it
    try:
        local.wait_for("local cloud ready at")
        for name in [k for k in __import__("os").environ if k.startswith("CASCADE_")]:
            monkeypatch.delenv(name)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(name, "testing")
        store = resolve(None, local.url).store  # a version written by hand: its stream record starts a run there
        made = datetime(2026, 11, 20, tzinfo=timezone.utc)
        store.write("raw_sales", pd.DataFrame({"sku": ["a"], "units": [3]}), {"region": "emea"}, made,
                    make_version(made, "test_logs", "json"), produced_by="test_logs")
        replay = local.cli("replay", "raw_sales", "--json")  # runs the trigger's path in this CLI process
        replayed = _one_document(replay)
        assert replayed["versions"] == 1 and replayed["counts"]
        handler_lines = [json.loads(line) for line in replay.stderr.splitlines() if line.startswith("{")]
        assert any(line.get("service") == "trigger" for line in handler_lines), replay.stderr[-2000:]
        versions = _one_document(local.cli("artifacts", "--json"))
        assert any(a["name"] == "raw_sales" for a in versions)
        assert isinstance(_one_document(local.cli("gc", "--json", "--dry-run")), dict)
    finally:
        import signal

        if local.proc.poll() is None:
            local.proc.send_signal(signal.SIGINT)
            try:
                local.proc.wait(30)
            except subprocess.TimeoutExpired:
                local.proc.kill()


def test_log_lines_go_to_stdout_in_lambda_and_to_stderr_elsewhere(monkeypatch, capsys):
    from chalicelib import capture, logs

    monkeypatch.setattr(capture, "_tee", None)  # as in a fresh Lambda container: stdout is the process's own
    log = logs.get_logger("sink_probe")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    log.info("from a command")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "cascade-dev-task_runner")
    log.info("from Lambda")
    out, err = capsys.readouterr()
    assert "from Lambda" in out and "from a command" not in out
    assert json.loads(err.strip().splitlines()[-1])["message"] == "from a command"
