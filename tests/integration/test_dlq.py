"""`dlq list|redrive` against the local cloud, with Lambda's on-failure record in a queue made by the test."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chalicelib import aws
from chalicelib.cli import main
from chalicelib.events.failure import parse_failure_record
from chalicelib.local.faults import FaultInjector
from tests.conftest import load_event
from tests.integration.support import (
    dead_letter,
    invoke_trigger,
    records_of,
    register,
    set_stream_delivery,
    triggered,
    write_version,
)


def test_the_on_failure_record_fixture_parses():
    record = parse_failure_record(json.dumps(load_event("dynamodb_stream_on_failure.json")))
    assert record.batch.shard_id.startswith("shardId-")
    assert int(record.batch.end_sequence_number) - int(record.batch.start_sequence_number) == 2
    assert record.request_context.condition == "RetryAttemptsExhausted"


def test_a_dead_lettered_batch_is_listed_then_redriven_once(cloud):
    register(cloud)
    set_stream_delivery(cloud, False)
    versions = [write_version(cloud, "readings", {"site": s}) for s in ("north", "south")]
    batch = records_of(cloud, {v.version for v in versions})
    region = cloud.settings.region
    faults = FaultInjector(1.0, operations=["StartExecution"], lost_share=0.0).attach(
        aws.client("stepfunctions", region))
    try:  # StartExecution throttled on every attempt: both records fail
        response = invoke_trigger(cloud, {"Records": batch})
    finally:
        faults.detach()
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert len(failed) == 2 and triggered(cloud, versions[0].version) == []

    queue = aws.client("sqs", region).create_queue(QueueName="trigger-dlq")["QueueUrl"]
    dead_letter(cloud, queue, batch, failed)
    cli = CliRunner()
    listed = cli.invoke(main, ["dlq", "list", "--queue", "trigger-dlq", "--records", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert [(r["artifact"], r["version"]) for r in row["records"]] == [("readings", v.version) for v in versions]
    assert cli.invoke(main, ["dlq", "list", "--queue", queue]).exit_code == 0  # the table view

    dry = cli.invoke(main, ["dlq", "redrive", "--queue", queue, "--dry-run", "--json"])
    assert json.loads(dry.stdout)[0]["outcome"] == "dry_run" and triggered(cloud, versions[0].version) == []

    redriven = cli.invoke(main, ["dlq", "redrive", "--queue", queue, "--json"])
    assert redriven.exit_code == 0, redriven.output
    assert json.loads(redriven.stdout) == [{"message_id": row["message_id"], "outcome": "redriven", "records": 2,
                                            "failed": [], "detail": None}]
    cloud.wait_quiet()
    assert triggered(cloud, versions[0].version) == ["every_reading", "north_only"]
    assert triggered(cloud, versions[1].version) == ["every_reading"]
    assert json.loads(cli.invoke(main, ["dlq", "list", "--queue", queue, "--json"]).output) == []

    dead_letter(cloud, queue, batch, failed)  # the same batch dead-lettered twice: still one run each
    assert cli.invoke(main, ["dlq", "redrive", "--queue", queue, "--json"]).exit_code == 0
    cloud.wait_quiet()
    assert triggered(cloud, versions[0].version) == ["every_reading", "north_only"]


def test_messages_that_are_not_on_failure_records_stay_and_are_reported(cloud):
    queue = aws.client("sqs", cloud.settings.region).create_queue(QueueName="trigger-dlq")["QueueUrl"]
    aws.client("sqs", cloud.settings.region).send_message(QueueUrl=queue, MessageBody='{"hello": "world"}')
    result = CliRunner().invoke(main, ["dlq", "redrive", "--queue", queue, "--json"])
    assert result.exit_code == 1
    [outcome] = json.loads(result.stdout)
    assert outcome["outcome"] == "unreadable" and "on-failure record" in outcome["detail"]
    assert len(json.loads(CliRunner().invoke(main, ["dlq", "list", "--queue", queue, "--json"]).output)) == 1


def stage_queue(cloud) -> str:
    """The stage's dead-letter queue, `cascade-<stage>-trigger-dlq` (made here unless the stack has it)."""
    sqs, name = aws.client("sqs", cloud.settings.region), f"cascade-{cloud.stage}-trigger-dlq"
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return sqs.create_queue(QueueName=name)["QueueUrl"]


def test_records_gone_from_the_stream_are_reported_as_expired(cloud):
    queue = stage_queue(cloud)
    message = load_event("dynamodb_stream_on_failure.json")
    streams = aws.client("dynamodbstreams", cloud.settings.region)
    shard = streams.describe_stream(StreamArn=cloud.outputs["ArtifactsStreamArn"])["StreamDescription"]["Shards"][0]
    start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"]) + 1000  # beyond anything written
    message["DDBStreamBatchInfo"].update({"shardId": shard["ShardId"], "streamArn": cloud.outputs["ArtifactsStreamArn"],
                                          "startSequenceNumber": str(start), "endSequenceNumber": str(start + 2)})
    aws.client("sqs", cloud.settings.region).send_message(QueueUrl=queue, MessageBody=json.dumps(message))
    result = CliRunner().invoke(main, ["dlq", "redrive", "--stage", cloud.stage, "--json"])  # queue from the stage
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["outcome"] == "expired"
