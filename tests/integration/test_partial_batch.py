"""A poisoned record among good ones: only its sequence number is reported; the good ones start their runs."""

from __future__ import annotations

from tests.conftest import load_event
from tests.integration.support import (
    invoke_logged,
    records_of,
    register,
    set_stream_delivery,
    trigger_function,
    triggered,
    write_version,
)


def test_only_the_poisoned_record_is_reported_as_failed(cloud):
    register(cloud)
    set_stream_delivery(cloud, False)
    versions = [write_version(cloud, "readings", {"site": site}) for site in ("north", "south", "east")]
    good = records_of(cloud, {v.version for v in versions})
    mixed = load_event("dynamodb_stream_mixed_batch.json")["Records"]
    poison = next(r for r in mixed if r["eventID"] == "2b")  # an INSERT that lacks most attributes
    update = next(r for r in mixed if r["eventName"] == "MODIFY")  # not a new version: ignored, not failed
    batch = [good[0], poison, good[1], update, good[2]]

    response, lines = invoke_logged(cloud, trigger_function(cloud), {"Records": batch})

    assert response == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["event_id"] == "2b" and error["error_type"] == "MalformedRecordError"
    cloud.wait_quiet()
    assert triggered(cloud, versions[0].version) == ["every_reading", "north_only"]
    assert triggered(cloud, versions[1].version) == ["every_reading"]
    assert triggered(cloud, versions[2].version) == ["every_reading"]
    assert not cloud.errors


def test_a_batch_whose_every_record_fails_fails_whole(cloud):
    """With nothing to checkpoint, the invocation fails, so the event source mapping's bisect and bounded
    retries apply before the batch is dead-lettered: reported, never dropped."""
    register(cloud)
    poison = load_event("dynamodb_stream_mixed_batch.json")["Records"][1]
    response, lines = invoke_logged(cloud, trigger_function(cloud), {"Records": [poison]})
    assert response["batchItemFailures"] == [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]
    assert "functionError" in response
    assert [line["error_type"] for line in lines if line.get("error_type")] == ["MalformedRecordError"]
