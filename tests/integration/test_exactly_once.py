"""Exactly one execution per (artifact version, active launch plan), whatever the delivery does."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib import aws
from chalicelib.local.faults import FaultInjector
from chalicelib.store.registry import Registry
from chalicelib.trigger.decide import decide
from chalicelib.store.claims import StartLedger, claim_key
from chalicelib.store.dynamo import to_dynamo
from tests.integration.support import (
    invoke_trigger,
    records_of,
    register,
    set_stream_delivery,
    triggered,
    write_version,
)


def trigger_clients(cloud: Any) -> list[Any]:
    region = cloud.settings.region
    return [aws.client("dynamodb", region), aws.client("stepfunctions", region)]


def test_a_redelivered_record_starts_each_launch_plan_once(cloud):
    register(cloud)
    v = write_version(cloud, "readings", {"site": "north"})  # delivered once by the event source mapping
    cloud.wait_quiet()
    [record] = records_of(cloud, {v.version})
    for _ in range(3):
        assert invoke_trigger(cloud, {"Records": [record, record]}) == {"batchItemFailures": []}
    cloud.wait_quiet()
    assert triggered(cloud, v.version) == ["every_reading", "north_only"]  # not `paused`, and no duplicates
    assert not cloud.errors
    item = aws.client("dynamodb", cloud.settings.region).get_item(
        TableName=cloud.settings.registry_table, Key=to_dynamo(claim_key("readings", v.version)),
    )["Item"]
    claimed = datetime.fromisoformat(item["claimed_at"]["S"].replace("Z", "+00:00"))
    assert int(item["expires_at"]["N"]) == int((claimed + timedelta(days=90)).timestamp())
    assert sorted(r["launch_plan"] for r in json.loads(item["requests"]["S"])) == ["every_reading", "north_only"]


def test_a_launch_plan_registered_again_does_not_start_a_version_twice(cloud):
    """The execution name hashes the launch-plan version; a redelivery after re-registration gets a new
    name. The start ledger keeps the decision made at the first delivery."""
    from chalicelib import LaunchPlan
    from chalicelib.runtime.loader import Definitions

    defs = register(cloud)
    v = write_version(cloud, "readings", {"site": "south"})
    cloud.wait_quiet()
    assert triggered(cloud, v.version) == ["every_reading"]

    lp = defs.launch_plans["every_reading"]
    changed = LaunchPlan.create("every_reading", lp.workflow, trigger=lp.trigger, default_inputs={"site": "x"})
    assert changed.version != lp.version
    from chalicelib.ops.register import Registrar

    settings = cloud.settings
    registry = Registry(settings, aws.client("dynamodb", settings.region))
    Registrar(settings, aws.client("stepfunctions", settings.region), registry, cloud.states_role_arn).register(
        Definitions(workflows={lp.workflow.name: lp.workflow}, launch_plans={"every_reading": changed}))
    old_name = decide(v, [s for s in registry.subscriptions_for("readings") if s.launch_plan == "every_reading"])
    claim = StartLedger(settings.registry_table, aws.client("dynamodb", settings.region)).get("readings", v.version)
    assert claim is not None and old_name[0].name != claim.requests[0]["name"]  # the name alone would differ

    [record] = records_of(cloud, {v.version})
    assert invoke_trigger(cloud, {"Records": [record]}) == {"batchItemFailures": []}
    cloud.wait_quiet()
    assert triggered(cloud, v.version) == ["every_reading"]


def test_responses_lost_after_the_write_do_not_duplicate(cloud):
    """The claim and the StartExecution both succeed, then their responses are lost (5xx); botocore retries
    and meets its own first attempt: ConditionalCheckFailed with the claim, ExecutionAlreadyExists."""
    register(cloud)
    set_stream_delivery(cloud, False)
    v = write_version(cloud, "readings", {"site": "north"})
    [record] = records_of(cloud, {v.version})
    faults = FaultInjector(0.0).attach(*trigger_clients(cloud))
    faults.script("PutItem", "lost").script("StartExecution", "lost", None, "lost")
    try:
        assert invoke_trigger(cloud, {"Records": [record]}) == {"batchItemFailures": []}
    finally:
        faults.detach()
    cloud.wait_quiet()
    assert faults.injected["lost"] == 3
    assert triggered(cloud, v.version) == ["every_reading", "north_only"]


def test_a_delivery_that_dies_after_its_claim_is_completed_by_the_next(cloud):
    register(cloud)
    set_stream_delivery(cloud, False)
    v = write_version(cloud, "readings", {"site": "north"})
    [record] = records_of(cloud, {v.version})
    seq = record["dynamodb"]["SequenceNumber"]
    faults = FaultInjector(0.0).attach(*trigger_clients(cloud))
    faults.script("StartExecution", *["throttled"] * 5)  # every attempt of the first start
    try:
        response = invoke_trigger(cloud, {"Records": [record]})
        assert response["batchItemFailures"] == [{"itemIdentifier": seq}]
    finally:
        faults.detach()
    cloud.wait_quiet()
    assert triggered(cloud, v.version) == ["north_only"]  # the second request of the claim went through
    assert faults.surfaced == 1

    assert invoke_trigger(cloud, {"Records": [record]}) == {"batchItemFailures": []}
    cloud.wait_quiet()
    assert triggered(cloud, v.version) == ["every_reading", "north_only"]


class CallCounter:
    """Counts the API calls a client makes (botocore's `before-call`, once per call, not per retry)."""

    def __init__(self, *clients: Any) -> None:
        self.calls: Counter[str] = Counter()
        for c in clients:
            c.meta.events.register("before-call", self._count, unique_id=f"count-{id(self)}")
        self.clients = clients

    def _count(self, model: Any = None, **_: Any) -> None:
        self.calls[model.name] += 1

    def close(self) -> None:
        for c in self.clients:
            c.meta.events.unregister("before-call", unique_id=f"count-{id(self)}")


@pytest.mark.parametrize("artifact, site, starts", [("readings", "north", 2), ("readings", "south", 1),
                                                     ("alerts", None, 1)])
def test_the_trigger_makes_at_most_two_calls_plus_one_start_per_launch_plan(cloud, artifact, site, starts):
    register(cloud)
    set_stream_delivery(cloud, False)
    v = write_version(cloud, artifact, {"site": site} if site else {})
    [record] = records_of(cloud, {v.version})
    counter = CallCounter(*trigger_clients(cloud))
    try:
        invoke_trigger(cloud, {"Records": [record]})
        first = dict(counter.calls)
        counter.calls.clear()
        invoke_trigger(cloud, {"Records": [record]})  # a duplicate: the claim is found in the same PutItem
        again = dict(counter.calls)
    finally:
        counter.close()
    assert first == {"Query": 1, "PutItem": 1, "StartExecution": starts}
    assert again == {"Query": 1, "PutItem": 1, "StartExecution": starts}


def test_a_version_no_launch_plan_wants_costs_one_query(cloud):
    register(cloud)
    set_stream_delivery(cloud, False)
    v = write_version(cloud, "unwatched", {})
    [record] = records_of(cloud, {v.version})
    counter = CallCounter(*trigger_clients(cloud))
    try:
        assert invoke_trigger(cloud, {"Records": [record]}) == {"batchItemFailures": []}
    finally:
        counter.close()
    assert dict(counter.calls) == {"Query": 1}
