"""A batch handled concurrently (records of different items at once, each record's starts at once) still starts
each (version, launch plan) exactly once, reads each artifact's subscriptions once, and reports failures by
sequence number in stream order."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from benchmarks import flows
from benchmarks.common import CallCounter, make_versions, seed_versions, stream_event
from chalicelib import aws
from chalicelib.trigger.handler import default_trigger
from chalicelib.trigger.pool import MAX_WORKERS
from tests.conftest import load_event
from tests.integration.support import invoke_trigger

RECORDS, PLANS = 30, 6


def executions(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
            for e in page["executions"]]


def test_a_concurrent_batch_starts_every_run_exactly_once(cloud):
    assert default_trigger().max_workers == MAX_WORKERS > 1  # the trigger as deployed is the concurrent one
    region = cloud.settings.region
    arn = flows.register_fanout(cloud, PLANS)
    versions = make_versions(flows.Fanout.name, RECORDS, start=5_000)
    seed_versions(cloud, versions)
    records = stream_event(versions, cloud.outputs["ArtifactsStreamArn"])["Records"]
    # every record delivered twice in the batch (the copies of one item stay in stream order), items shuffled
    order = list(range(RECORDS))
    random.Random(7).shuffle(order)
    batch = [records[i] for i in order for _ in range(2)]

    calls = CallCounter(aws.client("dynamodb", region), aws.client("stepfunctions", region))
    with calls:
        response = invoke_trigger(cloud, {"Records": batch})
    cloud.wait_quiet()

    assert response == {"batchItemFailures": []}
    names = Counter(e["name"] for e in executions(aws.client("stepfunctions", region), arn))
    assert len(names) == RECORDS * PLANS and set(names.values()) == {1}
    counts = calls.counts()
    assert counts["dynamodb.Query"] == 1  # one subscription lookup for the artifact, shared by 60 records
    assert counts["dynamodb.PutItem"] == 2 * RECORDS  # one claim per delivery; the second finds the first's
    assert counts["stepfunctions.StartExecution"] == 2 * RECORDS * PLANS  # the second re-issues the same names

    # delivered again, in another batch: nothing new starts
    assert invoke_trigger(cloud, {"Records": batch[::2]}) == {"batchItemFailures": []}
    cloud.wait_quiet()
    assert len(executions(aws.client("stepfunctions", region), arn)) == RECORDS * PLANS


def test_failures_of_a_concurrent_batch_are_each_reported_in_stream_order(cloud):
    region = cloud.settings.region
    arn = flows.register_fanout(cloud, 3)
    versions = make_versions(flows.Fanout.name, 12, start=7_000)
    seed_versions(cloud, versions)
    good = stream_event(versions, cloud.outputs["ArtifactsStreamArn"], first_sequence=100)["Records"]
    poison = next(r for r in load_event("dynamodb_stream_mixed_batch.json")["Records"] if r["eventID"] == "2b")
    late = {**poison, "dynamodb": {**poison["dynamodb"], "SequenceNumber": "999"}}
    batch = good[:3] + [poison] + good[3:9] + [late] + good[9:]

    response = invoke_trigger(cloud, {"Records": batch})
    cloud.wait_quiet()

    assert response == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]},
                                              {"itemIdentifier": "999"}]}
    assert len(executions(aws.client("stepfunctions", region), arn)) == 12 * 3
