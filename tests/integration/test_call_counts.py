"""AWS calls per artifact event and per `A.query()` resolution: counts, never times.

Calls are counted with botocore event hooks on the clients the trigger Lambda itself uses, for the thread that
wrote the version (the local cloud delivers stream records synchronously, in the writing thread).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from benchmarks import flows
from benchmarks.common import BASE_TIME, CallCounter, make_versions, new_client, seed_versions, stream_event
from chalicelib import aws
from chalicelib.runtime.runner import Runner
from chalicelib.sdk.query import query_literal
from chalicelib.sdk.artifact import Artifact
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import VERSION_SHARDS, make_version
from chalicelib.store.registry import Registry

START = "stepfunctions.StartExecution"
BUDGET = 2  # calls per event besides one StartExecution per matching launch plan


class Writer:
    """Writes new versions of the benchmark artifact as a task does (data object, then item), with its own clients."""

    def __init__(self, cloud: Any) -> None:
        s = cloud.settings
        self.cloud = cloud
        self.store = ArtifactStore(s, new_client("s3", s.region), new_client("dynamodb", s.region))
        self.trigger_calls = CallCounter(aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region))
        self.serial = 0

    def version(self) -> str:
        self.serial += 1
        made = datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.serial)
        return make_version(made, "t", str(self.serial))

    def event_calls(self) -> dict[str, int]:
        """Write one version; the trigger's calls for it, by operation."""
        with self.trigger_calls as calls:
            self.store.write(flows.Events.name, b"{}", dict(flows.PARTITIONS), None, self.version(), "test", fmt="json")
        counts = calls.counts(thread=threading.get_ident())
        calls.reset()
        self.cloud.wait_quiet()
        return counts


def executions(cloud: Any) -> list[str]:
    sfn = aws.client("stepfunctions", cloud.settings.region)
    names = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            for p in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                names.extend(e["name"] for e in p["executions"] if e["status"] in ("RUNNING", "SUCCEEDED"))
    return names


def assert_within_budget(counts: dict[str, int], matching: int) -> None:
    assert counts.get(START, 0) == matching, counts
    assert sum(v for k, v in counts.items() if k != START) <= BUDGET, counts


def test_calls_per_event_are_the_same_at_10_and_1000_versions(cloud):
    flows.register(cloud, flows.definitions(1))
    writer = Writer(cloud)
    seed_versions(cloud, make_versions(flows.Events.name, 10, flows.PARTITIONS))
    short = writer.event_calls()
    seed_versions(cloud, make_versions(flows.Events.name, 990, flows.PARTITIONS, start=10))
    long = writer.event_calls()

    assert short == long
    assert_within_budget(short, matching=1)
    assert len(executions(cloud)) == 2  # seeding started nothing; each new version started its one run


def test_calls_per_event_are_the_same_with_1_and_100_launch_plans(cloud):
    writer = Writer(cloud)
    flows.register(cloud, flows.definitions(1))
    one = writer.event_calls()
    flows.register(cloud, flows.definitions(100))
    hundred = writer.event_calls()

    assert one == hundred
    assert_within_budget(one, matching=1)
    assert len(executions(cloud)) == 2


def test_a_batch_reads_the_subscriptions_of_its_artifact_once(cloud):
    flows.register(cloud, flows.definitions(3))
    versions = make_versions(flows.Events.name, 5, flows.PARTITIONS)
    seed_versions(cloud, versions)
    event = stream_event(versions, cloud.outputs["ArtifactsStreamArn"])
    s = cloud.settings
    lam = aws.client("lambda", s.region)

    with CallCounter(aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region)) as calls:
        resp = lam.invoke(FunctionName=f"{s.prefix}on_artifact_event", Payload=json.dumps(event))
    cloud.wait_quiet()

    assert "FunctionError" not in resp
    counts = calls.counts(thread=threading.get_ident())
    assert counts["dynamodb.Query"] == 1
    assert counts[START] == 5
    assert len(executions(cloud)) == 5


def test_a_deactivated_launch_plan_is_not_started_by_the_next_event(cloud):
    writer = Writer(cloud)
    flows.register(cloud, flows.definitions(1))
    assert writer.event_calls()[START] == 1

    flows.register(cloud, flows.definitions(1, active=False))
    after = writer.event_calls()

    assert START not in after
    assert len(executions(cloud)) == 1


History = Artifact("calls_history", partition_keys=["key1"], time_partitioned=True)


def test_query_latest_is_one_dynamodb_query_per_write_shard(cloud):
    s = cloud.settings
    a = make_versions(History.name, 600, {"key1": "a"}, time_partitions=10)
    b = make_versions(History.name, 400, {"key1": "b"}, time_partitions=10, start=600)
    seed_versions(cloud, a + b)
    ddb = new_client("dynamodb", s.region)
    runner = Runner(s, ArtifactStore(s, new_client("s3", s.region), ddb), Registry(s, ddb))
    day = BASE_TIME + timedelta(days=4)
    cases = [
        (History.query(key1="a"), max(a, key=lambda v: v.version)),
        (History.query(key1="b", time_partition=day),
         max((v for v in b if v.time_partition == day), key=lambda v: v.version)),
    ]
    for query, expected in cases:
        with CallCounter(ddb) as calls:
            got = runner.binder.resolve_query(query_literal(query)["$query"])
        assert calls.counts() == {"dynamodb.Query": VERSION_SHARDS}  # one Limit-1 Query per shard, at once
        assert got.version == expected.version
