"""The trigger Lambda fed real-shaped DynamoDB stream events, invoked through moto's Lambda service."""

from __future__ import annotations

import json

from msgspec import structs

from chalicelib.events.stream import version_from_record
from chalicelib.ops.register import Registrar
from chalicelib.runtime import loader
from chalicelib.store.registry import Registry
from chalicelib.trigger.decide import decide, execution_name
from tests.conftest import SEED, load_event


def _register(cloud, clients):
    defs = loader.load_paths([SEED])
    registry = Registry(cloud.settings, clients["dynamodb"])
    Registrar(cloud.settings, clients["stepfunctions"], registry, cloud.states_role_arn).register(defs)
    return registry


def _invoke(clients, cloud, event):
    resp = clients["lambda"].invoke(FunctionName=f"{cloud.settings.prefix}on_artifact_event", Payload=json.dumps(event))
    return resp.get("FunctionError"), json.loads(resp["Payload"].read())


def _downstream_executions(clients):
    sfn = clients["stepfunctions"]
    [sm] = [s for s in sfn.list_state_machines()["stateMachines"] if s["name"].endswith("downstream_wf")]
    return sfn.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]


def test_stream_record_starts_the_subscribed_launch_plan_once(cloud, clients):
    registry = _register(cloud, clients)
    event = load_event("dynamodb_stream_insert.json")
    error, payload = _invoke(clients, cloud, event)
    assert error is None and payload == {"batchItemFailures": []}
    cloud.wait_quiet(30)
    [execution] = _downstream_executions(clients)
    version = version_from_record(event["Records"][0])
    expected = execution_name(version.name, version.version, "downstream_with_trigger_lp",
                              registry.subscriptions_for(version.name)[0].lp_version)
    assert execution["name"] == expected
    detail = clients["stepfunctions"].describe_execution(executionArn=execution["executionArn"])
    assert json.loads(detail["input"])["meta"]["triggered_by"] == {"artifact": version.name, "version": version.version}
    assert detail["status"] == "SUCCEEDED"

    # at-least-once delivery: the same record again, twice, starts nothing new
    for _ in range(2):
        error, payload = _invoke(clients, cloud, event)
        assert error is None and payload == {"batchItemFailures": []}
    cloud.wait_quiet(30)
    assert len(_downstream_executions(clients)) == 1


def test_a_poisoned_record_is_reported_alone(cloud, clients):
    _register(cloud, clients)
    event = load_event("dynamodb_stream_mixed_batch.json")
    error, payload = _invoke(clients, cloud, event)
    assert error is None
    # only the malformed INSERT fails; the good one started its run, the MODIFY is ignored
    assert payload == {"batchItemFailures": [{"itemIdentifier": "100000000000000000002"}]}
    cloud.wait_quiet(30)
    assert len(_downstream_executions(clients)) == 1


def test_parsing_and_deciding_are_pure():
    event = load_event("dynamodb_stream_insert.json")
    version = version_from_record(event["Records"][0])
    assert version.partitions == {"key1": "value1"} and version.format == "parquet"
    assert version.time_partition.isoformat() == "2026-11-25T00:00:00+00:00"
    from chalicelib.store.models import Subscription

    sub = Subscription(artifact=version.name, launch_plan="lp", lp_version="v1", workflow="m.wf",
                       state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:x")
    first, second = decide(version, [sub]), decide(version, [sub])
    assert first == second and len(first) == 1
    assert decide(version, [structs.replace(sub, active=False)]) == []
    assert decide(version, [structs.replace(sub, filter={"key1": "other"})]) == []
    assert len(first[0].name) <= 80
