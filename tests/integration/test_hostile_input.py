"""Hostile and malformed input: each case gives a named error, a structured log line, and a dead-letter
record (stream records) or an error to the caller (definitions). Nothing crashes, nothing is dropped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from chalicelib import Artifact, LaunchPlan, OnArtifact, aws
from chalicelib.cli import main
from chalicelib.errors import CascadeError, InvalidNameError, OversizeInputError
from chalicelib.runtime.loader import Definitions
from tests.conftest import load_event
from tests.integration.support import (
    dead_letter,
    invoke_logged,
    records_of,
    register,
    set_stream_delivery,
    store,
    trigger_function,
    triggered,
    write_version,
)

HOSTILE_NAMES = [
    "a/b", "../x", "..", "a=b", "a#b", "a|b", "a,b", "nul\x00", "line\n", "tab\t", "sp ace", "", "9starts_digit",
    "x" * 129, "caf\u00e9", "non\udcffutf8", None, 7,
]
HOSTILE_VALUES = [
    "a/b", "../etc", "..", "x..y", "a=b", "a#b", "a|b", "a,b", "nul\x00", "line\n", " lead", "trail ", "",
    "v" * 257, "caf\u00e9", "non\udcffutf8", "-dash-first",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_artifact_names_are_refused(name):
    with pytest.raises(InvalidNameError):
        Artifact(name=name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_partition_keys_are_refused(name):
    with pytest.raises(InvalidNameError):
        Artifact(name="ok", partition_keys=[name])  # type: ignore[list-item]


def test_scalar_partition_values_become_text_as_in_flytekit():
    assert Artifact(name="ok", partition_keys=["k"]).create_from([1], k=3).partitions == {"k": "3"}


@pytest.mark.parametrize("value", HOSTILE_VALUES + [None])
def test_hostile_partition_values_are_refused(value):
    art = Artifact(name="ok", partition_keys=["k"])
    with pytest.raises(InvalidNameError):
        art.create_from([1], k=value)
    with pytest.raises(InvalidNameError):
        art.finalize({"k": value}, None)


def test_partitions_too_long_for_storage_keys_are_refused():
    art = Artifact(name="wide", partition_keys=["a", "b", "c", "d"])
    with pytest.raises(InvalidNameError, match="1024"):
        art.finalize({k: "v" * 250 for k in "abcd"}, None)
    art.finalize({k: "v" * 200 for k in "abcd"}, None)  # within the budget


# -- stream records -----------------------------------------------------------------------------------
EXPECTED = {
    "forged-partition-value": "InvalidNameError",
    "forged-artifact-name": "InvalidNameError",
    "separator-in-value": "InvalidNameError",
    "nul-in-value": "InvalidNameError",
    "non-utf8-name": "InvalidNameError",
    "key-without-version-attributes": "MalformedRecordError",
    "key-mismatch": "MalformedRecordError",
    "missing-attributes": "MalformedRecordError",
    "no-new-image": "MalformedRecordError",
    "not-dynamodb-json": "MalformedRecordError",
    "unknown-event-name": "MalformedRecordError",
    "oversize-version": "InvalidNameError",
    "oversize-partitions": "InvalidNameError",
}


def test_every_hostile_record_fails_alone_with_its_named_error_and_a_log_line(cloud):
    register(cloud)
    set_stream_delivery(cloud, False)
    good = write_version(cloud, "readings", {"site": "north"})
    hostile = load_event("dynamodb_stream_hostile_batch.json")["Records"]
    assert {r["eventID"] for r in hostile} == set(EXPECTED)
    batch = hostile[:6] + records_of(cloud, {good.version}) + hostile[6:]

    response, lines = invoke_logged(cloud, trigger_function(cloud), {"Records": batch})

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["dynamodb"]["SequenceNumber"] for r in hostile]
    failures = {line["event_id"]: line for line in lines
                if line["level"] == "ERROR" and line["message"].startswith("stream record failed")}
    assert {eid: line["error_type"] for eid, line in failures.items()} == EXPECTED
    for eid, line in failures.items():
        seq = next(r["dynamodb"]["SequenceNumber"] for r in hostile if r["eventID"] == eid)
        assert line["sequence_number"] == seq and line["service"] == "trigger" and line["error"]
    cloud.wait_quiet()
    assert triggered(cloud, good.version) == ["every_reading", "north_only"]  # the good record was not held up
    assert not cloud.errors  # the function itself never failed


def forge(cloud: Any, item: dict[str, Any]) -> None:
    """Write an item straight into the artifacts table, around the SDK and its checks."""
    from chalicelib.store.dynamo import to_dynamo

    aws.client("dynamodb", cloud.settings.region).put_item(TableName=cloud.settings.artifacts_table,
                                                          Item=to_dynamo(item))


def test_forged_items_in_the_table_land_in_the_dead_letter_queue_with_their_errors(cloud):
    register(cloud)
    set_stream_delivery(cloud, False)
    good = write_version(cloud, "readings", {"site": "south"})
    valid = store(cloud).get("readings", good.version).to_item()
    forge(cloud, {**valid, "sk": "V#20261125T150000000Z-ffffffffff", "version": "20261125T150000000Z-ffffffffff",
                  "partitions": {"site": "../../etc"}})
    forge(cloud, {**valid, "pk": "A#nul\x00name", "name": "nul\x00name"})
    forge(cloud, {"pk": "Q#readings|site=south|", "sk": f"V#{good.version}"})  # not a version item: ignored
    batch = [r for r in records_of_all(cloud) if r["eventName"] == "INSERT"]
    assert len(batch) == 4

    response, _ = invoke_logged(cloud, trigger_function(cloud), {"Records": batch})
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in batch[1:3]]
    cloud.wait_quiet()  # the good record's runs finish before the CLI takes over stdout

    queue = aws.client("sqs", cloud.settings.region).create_queue(QueueName="trigger-dlq")["QueueUrl"]
    dead_letter(cloud, queue, batch, failed)
    result = CliRunner().invoke(main, ["dlq", "list", "--queue", queue, "--records", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert [r["error"].split(":")[0] if r["error"] else None for r in row["records"]] == [
        "InvalidNameError", "InvalidNameError", None]

    result = CliRunner().invoke(main, ["dlq", "redrive", "--queue", queue, "--json"])
    assert result.exit_code == 1  # they fail again, and stay in the queue
    [outcome] = json.loads(result.stdout)
    assert outcome["outcome"] == "failed" and outcome["failed"] == failed
    assert len(json.loads(CliRunner().invoke(main, ["dlq", "list", "--queue", queue, "--json"]).output)) == 1


def records_of_all(cloud: Any) -> list[dict[str, Any]]:
    from chalicelib.local.delivery import read_stream

    return read_stream(aws.client("dynamodbstreams", cloud.settings.region), cloud.outputs["ArtifactsStreamArn"])


def test_an_oversize_launch_plan_input_fails_its_record_with_a_named_error(cloud):
    defs = register(cloud)
    summary = defs.workflow("summary")
    readings = Artifact(name="readings", partition_keys=["site"])
    big = LaunchPlan.create("big_default", summary, trigger=OnArtifact(trigger_on=readings),
                            default_inputs={"site": "x" * 300_000})
    from chalicelib.ops.register import Registrar
    from chalicelib.store.registry import Registry

    s = cloud.settings
    Registrar(s, aws.client("stepfunctions", s.region), Registry(s, aws.client("dynamodb", s.region)),
              cloud.states_role_arn).register(
        Definitions(workflows={summary.name: summary}, launch_plans={"big_default": big}))
    set_stream_delivery(cloud, False)
    v = write_version(cloud, "readings", {"site": "north"})
    [record] = records_of(cloud, {v.version})
    response, lines = invoke_logged(cloud, trigger_function(cloud), {"Records": [record]})
    assert response["batchItemFailures"] == [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]
    [line] = [ln for ln in lines if ln["level"] == "ERROR"]
    assert line["error_type"] == OversizeInputError.__name__ and line["version"] == v.version
    assert triggered(cloud, v.version) == []  # nothing started before the whole decision was checked


def test_named_errors_are_cascade_errors():
    from chalicelib import errors

    for name in set(EXPECTED.values()) | {"OversizeInputError", "VersionConflictError", "TransientAwsError",
                                          "DeadLetterError", "UnknownArtifactError"}:
        assert issubclass(getattr(errors, name), CascadeError)
