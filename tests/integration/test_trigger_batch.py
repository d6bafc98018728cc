"""The trigger Lambda's batch contract (ReportBatchItemFailures), invoked through Lambda on the local cloud."""

from __future__ import annotations

import copy
import json
from typing import Any

from chalicelib import aws
from tests.conftest import load_event


def invoke(cloud: Any, event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    s = cloud.settings
    resp = aws.client("lambda", s.region).invoke(FunctionName=f"{s.prefix}on_artifact_event", Payload=json.dumps(event))
    return json.loads(resp["Payload"].read()), resp.get("FunctionError")


def test_a_bad_record_is_reported_alone_by_its_sequence_number(cloud):
    payload, error = invoke(cloud, load_event("dynamodb_stream_mixed_batch.json"))

    assert error is None
    assert payload == {"batchItemFailures": [{"itemIdentifier": "100000000000000000002"}]}


def test_a_batch_whose_every_record_fails_fails_the_invocation(cloud):
    event = load_event("dynamodb_stream_mixed_batch.json")
    broken = event["Records"][1]
    event["Records"] = [broken, copy.deepcopy(broken)]
    event["Records"][1]["dynamodb"]["SequenceNumber"] = "100000000000000000009"

    payload, error = invoke(cloud, event)

    assert error == "Handled"
    assert payload["errorType"] == "BatchFailedError"
    assert "all 2 records" in payload["errorMessage"]


def test_an_event_without_records_is_refused_with_a_named_error(cloud):
    payload, error = invoke(cloud, {"Records": []})

    assert error == "Handled"
    assert payload["errorType"] == "EventError"
    assert "no Records" in payload["errorMessage"]
