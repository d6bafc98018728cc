"""What happened: executions (with trigger, inputs, logs) and artifact versions, as one JSON-able report."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import Settings
from chalicelib.store.dynamo import from_dynamo
from chalicelib.store.models import ArtifactVersion, iso_ms
from chalicelib.store.registry import Registry


def executions(sfn: Any, settings: Settings, registry: Registry) -> list[dict[str, Any]]:
    """Every execution of this stage's state machines, oldest first."""
    rows = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            if not sm["name"].startswith(settings.prefix):
                continue
            for epage in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                for ex in epage["executions"]:
                    rows.append(describe(sfn, registry, ex["executionArn"]))
    rows.sort(key=lambda r: (r["started_at"], r["id"]))
    return rows


def describe(sfn: Any, registry: Registry, arn: str) -> dict[str, Any]:
    d = sfn.describe_execution(executionArn=arn)
    doc = json.loads(d.get("input") or "{}")
    meta = doc.get("meta") or {}
    started, stopped = d.get("startDate"), d.get("stopDate")
    row: dict[str, Any] = {
        "id": arn,
        "name": d["name"],
        "workflow": meta.get("workflow"),
        "launch_plan": meta.get("launch_plan"),
        "status": d["status"],
        "inputs": doc.get("inputs", {}),
        "triggered_by": meta.get("triggered_by"),
        "logs": registry.logs(arn),
        "started_at": iso_ms(started) if started else None,
        "duration_s": round((stopped - started).total_seconds(), 3) if started and stopped else None,
    }
    if d.get("output"):
        row["outputs"] = json.loads(d["output"]).get("outputs", {})
    if d["status"] == "FAILED":
        row["error"] = d.get("error")
        row["cause"] = task_cause(d.get("cause"))
    return row


def task_cause(cause: str | None) -> str | None:
    """Step Functions wraps a Lambda error as JSON; show the task's own message."""
    if not cause:
        return cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause


def artifacts(ddb: Any, settings: Settings) -> list[dict[str, Any]]:
    """Every artifact version in the stage, oldest first (a Scan: for reports, never on the trigger path)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": settings.artifacts_table}
    while True:
        resp = ddb.scan(**kwargs)
        items.extend(from_dynamo(i) for i in resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    versions = [ArtifactVersion.from_item(i) for i in items if str(i.get("pk", "")).startswith("A#")]
    versions.sort(key=lambda v: (v.version, v.name))
    return [v.report() for v in versions]
