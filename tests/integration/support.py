"""What the reliability tests do to a local cloud: register definitions, write versions, deliver records."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from chalicelib import aws
from chalicelib.ops.dlq import lambda_invoker
from chalicelib.ops.register import Registrar
from chalicelib.runtime import loader
from chalicelib.local.delivery import read_stream
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import ArtifactVersion, make_version
from chalicelib.store.registry import Registry
from tests.conftest import EXAMPLES, load_event

FANOUT = EXAMPLES / "fanout.py"


def register(cloud: Any, path: Any = FANOUT) -> Any:
    settings = cloud.settings
    registry = Registry(settings, aws.client("dynamodb", settings.region))
    defs = loader.load_paths([path])
    Registrar(settings, aws.client("stepfunctions", settings.region), registry, cloud.states_role_arn).register(defs)
    return defs


def store(cloud: Any) -> ArtifactStore:
    s = cloud.settings
    return ArtifactStore(s, aws.client("s3", s.region), aws.client("dynamodb", s.region))


def trigger_function(cloud: Any) -> str:
    return f"{cloud.settings.prefix}on_artifact_event"


def set_stream_delivery(cloud: Any, enabled: bool) -> None:
    """Switch the stream → trigger event source mapping on or off (off: records wait in the stream)."""
    lam = aws.client("lambda", cloud.settings.region)
    mappings = [m for m in lam.list_event_source_mappings()["EventSourceMappings"]
                if m["FunctionArn"].endswith(f":function:{trigger_function(cloud)}")]
    assert mappings, "the local cloud has no event source mapping for the trigger"
    for esm in mappings:
        lam.update_event_source_mapping(UUID=esm["UUID"], Enabled=enabled)


def invoke_trigger(cloud: Any, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the deployed trigger function (through Lambda, as the event source mapping does)."""
    return lambda_invoker(aws.client("lambda", cloud.settings.region))(trigger_function(cloud), event)


def invoke_logged(cloud: Any, function: str, event: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Invoke a deployed function with LogType=Tail: its response, and its structured (JSON) log lines."""
    import base64

    resp = aws.client("lambda", cloud.settings.region).invoke(
        FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail")
    lines = []
    for line in base64.b64decode(resp.get("LogResult", "")).decode().splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "level" in doc:
            lines.append(doc)
    payload = json.loads(resp["Payload"].read() or b"null")
    if resp.get("FunctionError"):  # as the event source mapping sees it: every record of the batch failed
        ids = [r.get("dynamodb", {}).get("SequenceNumber") for r in event.get("Records", [])]
        payload = {"batchItemFailures": [{"itemIdentifier": i} for i in ids], "functionError": payload}
    return payload, lines


def write_version(cloud: Any, artifact: str, partitions: dict[str, str], value: Any = None,
                  made_at: datetime | None = None, producer: str | None = None) -> ArtifactVersion:
    """A new version as a task would write it: data object, then metadata item."""
    producer = producer or f"arn:aws:states:us-east-1:123456789012:execution:test:{uuid.uuid4().hex}"
    version = make_version(made_at or datetime.now(timezone.utc), producer, "n0", "o0")
    body = json.dumps(value if value is not None else {"producer": producer}).encode()
    return store(cloud).write(artifact, body, partitions, None, version, produced_by=producer, fmt="json")


def records_of(cloud: Any, versions: set[str]) -> list[dict[str, Any]]:
    """The stream records (Lambda's shape) that announced these versions."""
    streams = aws.client("dynamodbstreams", cloud.settings.region)
    out = []
    for record in read_stream(streams, cloud.outputs["ArtifactsStreamArn"]):
        image = record["dynamodb"].get("NewImage", {})
        if image.get("version", {}).get("S") in versions:
            out.append(record)
    return out


def executions(cloud: Any) -> list[dict[str, Any]]:
    """Every execution of this stage: name, status, launch plan and trigger."""
    sfn = aws.client("stepfunctions", cloud.settings.region)
    rows = []
    for sm in sfn.list_state_machines()["stateMachines"]:
        for ex in sfn.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]:
            d = sfn.describe_execution(executionArn=ex["executionArn"])
            doc = json.loads(d.get("input") or "{}")
            meta = doc.get("meta") or {}
            rows.append({"name": d["name"], "status": d["status"], "launch_plan": meta.get("launch_plan"),
                         "triggered_by": meta.get("triggered_by"), "arn": ex["executionArn"]})
    return rows


def triggered(cloud: Any, version: str) -> list[str]:
    """Launch plans started for `version`, one entry per execution (duplicates show twice)."""
    return sorted(e["launch_plan"] for e in executions(cloud)
                  if e["triggered_by"] and e["triggered_by"]["version"] == version)


def dead_letter(cloud: Any, queue_url: str, batch: list[dict[str, Any]], failed: list[str]) -> None:
    """What Lambda sends to the on-failure destination when the failed part of `batch` runs out of retries:
    the batch from the lowest failed sequence number to its end (the fixture's shape, real locations)."""
    first = min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
    part = batch[first:]
    message = load_event("dynamodb_stream_on_failure.json")
    lam = aws.client("lambda", cloud.settings.region)
    message["requestContext"]["functionArn"] = lam.get_function(
        FunctionName=trigger_function(cloud))["Configuration"]["FunctionArn"]
    streams = aws.client("dynamodbstreams", cloud.settings.region)
    shard = streams.describe_stream(StreamArn=cloud.outputs["ArtifactsStreamArn"])["StreamDescription"]["Shards"][0]
    message["DDBStreamBatchInfo"].update({
        "shardId": shard["ShardId"], "streamArn": cloud.outputs["ArtifactsStreamArn"], "batchSize": len(part),
        "startSequenceNumber": part[0]["dynamodb"]["SequenceNumber"],
        "endSequenceNumber": part[-1]["dynamodb"]["SequenceNumber"],
    })
    aws.client("sqs", cloud.settings.region).send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
