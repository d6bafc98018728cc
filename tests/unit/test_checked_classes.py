"""The trigger path's plain classes check what they read from outside (items, stream records, the environment)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from msgspec import structs

from chalicelib.config import Settings
from chalicelib.errors import ArtifactError, CascadeError, DefinitionError, MalformedRecordError, StageConfigError
from chalicelib.events.stream import version_from_record
from chalicelib.naming import StackOutputs
from chalicelib.store.dynamo import to_dynamo
from chalicelib.store.models import ArtifactVersion, ExecutionProducer, Subscription, UploadProducer, producer_of
from chalicelib.trigger.align import AlignSpec
from chalicelib.trigger.decide import RunRequest

ARN = "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"


def version(**changes) -> ArtifactVersion:
    return ArtifactVersion(**{"name": "sales", "version": "v1", "uri": "s3://b/k", "format": "json",
                              "partitions": {"region": "emea"}, "created_at": "2026-11-24T13:00:00.123Z",
                              "produced_by": ARN, **changes})


def record(item: dict) -> dict:
    return {"eventID": "e1", "eventName": "INSERT", "dynamodb": {"NewImage": to_dynamo(item)}}


def test_a_version_reads_its_stored_form_back():
    v = version(time_partition=datetime(2026, 11, 24, tzinfo=timezone.utc), card={"rows": 3})
    assert ArtifactVersion.from_item(v.to_item()) == v
    assert v.created_at == datetime(2026, 11, 24, 13, 0, 0, 123000, tzinfo=timezone.utc)
    assert v.produced_by == ExecutionProducer(execution=ARN)
    assert v.to_item()["produced_by"] == {"kind": "execution", "execution": ARN}
    assert v.report()["produced_by"] == {"kind": "execution", "execution": ARN, "workflow": None,
                                         "launch_plan": None, "node": None}


def test_a_producer_is_read_from_its_dict_with_unknown_keys_ignored():
    assert producer_of({"kind": "upload", "bucket": "b", "key": "k", "later": 1}) == UploadProducer(bucket="b", key="k")
    with pytest.raises(ArtifactError, match="'bucket' must be text"):
        producer_of({"kind": "upload", "bucket": 7, "key": "k"})
    with pytest.raises(ArtifactError, match="lacks a field"):
        producer_of({"kind": "execution"})


@pytest.mark.parametrize("field, value, named", [
    ("created_at", "yesterday", "'created_at' must be an ISO 8601 time"),
    ("uri", 42, "'uri' must be text"),
    ("card", "big", "'card' must be a mapping with text keys"),
])
def test_a_stream_record_with_a_wrong_field_is_malformed_and_named(field, value, named):
    item = {**version().to_item(), field: value}
    with pytest.raises(MalformedRecordError, match=named):
        version_from_record(record(item))


def test_a_version_is_frozen():
    with pytest.raises(AttributeError):
        version().uri = "s3://elsewhere/k"  # type: ignore[misc]


def test_settings_from_the_environment_name_what_is_missing_or_wrong(monkeypatch):
    for name in ("BUCKET", "ARTIFACTS_TABLE", "REGISTRY_TABLE", "INDEX_TABLE", "MAX_INLINE_BYTES"):
        monkeypatch.delenv(f"CASCADE_{name}", raising=False)
    monkeypatch.setenv("CASCADE_BUCKET", "b")
    with pytest.raises(StageConfigError, match="CASCADE_ARTIFACTS_TABLE, CASCADE_REGISTRY_TABLE, CASCADE_INDEX_TABLE"):
        Settings.from_env()
    for name in ("ARTIFACTS_TABLE", "REGISTRY_TABLE", "INDEX_TABLE"):
        monkeypatch.setenv(f"CASCADE_{name}", name.lower())
    monkeypatch.setenv("CASCADE_MAX_INLINE_BYTES", "4096")
    settings = Settings.from_env()
    assert settings.max_inline_bytes == 4096 and Settings.from_env() == settings
    monkeypatch.setenv("CASCADE_MAX_INLINE_BYTES", "lots")
    with pytest.raises(StageConfigError, match="CASCADE_MAX_INLINE_BYTES.*'lots'"):
        Settings.from_env()


def test_settings_go_to_the_environment_and_back(monkeypatch):
    settings = Settings(stage="s", bucket="b", artifacts_table="a", registry_table="r", index_table="i",
                        region="eu-west-1", max_inline_bytes=1000)
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env() == settings


def test_stack_outputs_are_read_by_output_key_and_name_what_is_missing():
    outputs = {key: f"value of {key}" for key in StackOutputs.KEYS.values()}
    read = StackOutputs.from_outputs({**outputs, "SomethingElse": "x"})
    assert read.bucket == "value of BucketName" and read.upload_dlq_url == "value of UploadDlqUrl"
    del outputs["IndexTable"]
    assert StackOutputs.missing(outputs) == ["IndexTable"]
    with pytest.raises(StageConfigError, match="IndexTable"):
        StackOutputs.from_outputs(outputs)


def test_a_subscription_document_with_a_wrong_field_names_the_launch_plan():
    sub = Subscription(artifact="sales", launch_plan="daily", lp_version="1", workflow="m.w", state_machine_arn="arn",
                       filter={"region": "emea"}, align={"on": "region", "members": [{"artifact": "sales"}]})
    assert Subscription.from_item(sub.to_item()) == sub
    assert AlignSpec.of(sub).members[0].filter == {}
    item = sub.to_item()
    item["doc"] = item["doc"].replace('"filter":{"region":"emea"}', '"filter":["region"]')
    with pytest.raises(DefinitionError, match="launch plan 'daily'.*'filter'"):
        Subscription.from_item(item)
    broken = structs.replace(sub, align={"on": "region", "members": "sales"})
    with pytest.raises(DefinitionError, match="aligned trigger of launch plan 'daily'.*'members'"):
        AlignSpec.of(broken)


def test_a_run_request_reads_back_as_a_claim_recorded_it():
    request = RunRequest(launch_plan="daily", state_machine_arn="arn", name="daily-1", input={"inputs": {}})
    assert RunRequest.from_dict(request.to_dict()) == request
    with pytest.raises(CascadeError, match="lacks 'input'"):
        RunRequest.from_dict({"launch_plan": "daily", "state_machine_arn": "arn", "name": "daily-1"})


# -- the task runner's payloads and records -------------------------------------------------------------------

TASK_PAYLOAD = {"workflow": "m.wf", "node": "n2", "task": {"module": "m", "name": "t"}, "bindings": {"x": {"input": "x"}},
                "meta": {}, "inputs": {"x": 1}, "results": {}, "execution_id": ARN,
                "execution_start": "2026-11-24T00:00:00Z"}


def test_a_task_payload_reads_with_unknown_fields_ignored_as_before():
    from chalicelib.events.task import TaskEvent, TaskRef, parse_runner_event

    event = parse_runner_event({**TASK_PAYLOAD, "mode": "map_prepare", "later": 1, "map_index": 3})
    assert isinstance(event, TaskEvent) and event.task == TaskRef(module="m", name="t")
    assert event.map_index == 3 and event.node_index == 2
    assert TaskEvent.from_dict(event.to_dict()) == event
    assert event.with_node("n2-3").node == "n2-3" and event.node == "n2"
    with pytest.raises(AttributeError):
        event.node = "n9"


@pytest.mark.parametrize("changes, named", [
    ({"node": 2}, "the Task state payload's field 'node' must be text; got 2"),
    ({"task": {"module": "m"}}, "field 'task' lacks 'name'"),
    ({"task": {"module": "m", "name": None}}, "field 'task.name' must be text"),
    ({"bindings": {"x": "x"}}, "field 'bindings.x' must be a mapping with text keys"),
    ({"inputs": [1]}, "field 'inputs' must be a mapping with text keys"),
    ({"map_index": "first"}, "field 'map_index' must be a whole number"),
    ({"cache": True}, "field 'cache' must be a mapping with text keys"),
])
def test_a_wrong_task_payload_names_the_field_and_the_payload_it_should_be(changes, named):
    from chalicelib.errors import EventError
    from chalicelib.events.task import parse_runner_event

    with pytest.raises(EventError, match=named) as caught:
        parse_runner_event({**TASK_PAYLOAD, **changes})
    assert "a Task state's Parameters hold workflow, node, task {module, name}" in str(caught.value)


def test_a_task_payload_missing_fields_names_them():
    from chalicelib.errors import EventError
    from chalicelib.events.task import parse_runner_event

    with pytest.raises(EventError, match="the Task state payload lacks 'meta', 'execution_start'; a Task state"):
        parse_runner_event({k: v for k, v in TASK_PAYLOAD.items() if k not in ("meta", "execution_start")})
    with pytest.raises(EventError, match="not a JSON object: got list"):
        parse_runner_event([TASK_PAYLOAD])


def test_resolve_and_publish_payloads_are_told_apart_and_checked():
    from chalicelib.errors import EventError
    from chalicelib.events.task import PublishEvent, ResolveEvent, ResolveRequest, parse_runner_event

    resolve = parse_runner_event({"resolve": {}, "inputs": {"a": 1}, "execution_id": ARN, "meta": {}})
    assert resolve == ResolveEvent(resolve=ResolveRequest(), inputs={"a": 1}, execution_id=ARN)
    with pytest.raises(EventError, match="Resolve state payload's field 'resolve.defaults' must be a mapping"):
        parse_runner_event({"resolve": {"defaults": ["a"]}})
    publish = {"mode": "publish", "workflow": "m.wf", "output": "o", "binding": {"result": ["n0", "o0"]},
               "execution_id": ARN, "execution_start": "2026-11-24T00:00:00Z"}
    assert parse_runner_event(publish) == PublishEvent(**publish)
    with pytest.raises(EventError, match="Publish state payload lacks 'output'; the Publish state's Parameters"):
        parse_runner_event({k: v for k, v in publish.items() if k != "output"})
    with pytest.raises(EventError, match="Publish state payload's field 'binding' must be a mapping"):
        parse_runner_event({**publish, "binding": "n0.o0"})


def test_a_gate_payload_is_checked_and_its_record_reads_back():
    from decimal import Decimal

    from chalicelib.errors import EventError
    from chalicelib.runtime.gates import GateEvent, GateSpec
    from chalicelib.store.gates import GateRecord

    raw = {"mode": "gate", "gate": {"name": "ok", "kind": "approve", "expected_type": None, "timeout_seconds": 60},
           "workflow": "m.wf", "node": "n1", "execution_id": ARN, "token": "tok", "later": 1}
    assert GateEvent.from_dict(raw).gate == GateSpec(name="ok", kind="approve", timeout_seconds=60)
    with pytest.raises(EventError, match="gate state payload lacks 'token'; a gate state's Parameters hold"):
        GateEvent.from_dict({k: v for k, v in raw.items() if k != "token"})
    with pytest.raises(EventError, match="field 'gate.timeout_seconds' must be a whole number"):
        GateEvent.from_dict({**raw, "gate": {**raw["gate"], "timeout_seconds": "soon"}})
    record = GateRecord(execution=ARN, name="ok", kind="input", expected_type="int", token="tok", waiting_since=5)
    assert GateRecord.from_item({"pk": "GATE#run-1", "sk": "GATE#ok", **record.to_item(),
                                 "waiting_since": Decimal(5)}) == record
    assert "expected_type" not in structs.replace(record, expected_type=None).to_item()
    with pytest.raises(CascadeError, match="gate item 'GATE#run-1'/'GATE#ok' lacks 'token'"):
        GateRecord.from_item({"pk": "GATE#run-1", "sk": "GATE#ok", "execution": ARN, "name": "ok", "kind": "input",
                              "waiting_since": 5})


def test_a_map_spec_is_checked():
    from chalicelib.errors import EventError
    from chalicelib.runtime import mapping

    raw = {**TASK_PAYLOAD, "mode": "map_collect", "count": 4,
           "map": {"label": "sq", "outputs": ["o0"], "min_success_ratio": 1, "min_successes": None}}
    mode, event, count, spec = mapping.parse(raw)
    assert (mode, count, spec) == ("map_collect", 4, mapping.MapSpec(label="sq", outputs=["o0"]))
    assert spec.required(4) == 4 and mapping.MapSpec(label="sq", outputs=[], min_successes=2).required(4) == 2
    with pytest.raises(EventError, match="field 'map.min_success_ratio' must be a number; got 'most'"):
        mapping.parse({**raw, "map": {**raw["map"], "min_success_ratio": "most"}})
    with pytest.raises(EventError, match=r"field 'map.outputs\[0\]' must be text"):
        mapping.parse({**raw, "map": {**raw["map"], "outputs": [0]}})


def test_a_lineage_edge_reads_back_and_refuses_an_unknown_kind():
    from chalicelib.store.lineage import Edge

    edge = Edge(kind="input", execution=ARN, artifact="sales", version="v1", node="n0", input="x", via="query")
    first, second = edge.items()
    assert Edge.from_item(first) == edge == Edge.from_item(second)
    assert "workflow" not in first and first["at"] == ""
    assert edge.to_dict() == {"kind": "input", "execution": ARN, "artifact": "sales", "version": "v1", "workflow": None,
                              "launch_plan": None, "node": "n0", "input": "x", "via": "query", "at": ""}
    with pytest.raises(CascadeError, match="field 'kind' must be one of trigger, input, output; got 'made'"):
        Edge.from_item({**first, "kind": "made"})
    with pytest.raises(CascadeError, match="field 'via' must be one of artifact, query"):
        Edge(kind="input", execution=ARN, artifact="sales", version="v1", via="guess")


def test_settings_from_the_environment_name_every_missing_required_variable(monkeypatch: pytest.MonkeyPatch):
    import os

    for name in [n for n in os.environ if n.startswith("CASCADE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CASCADE_BUCKET", "b")
    monkeypatch.setenv("CASCADE_MAX_INLINE_BYTES", "1024")
    with pytest.raises(StageConfigError) as err:
        Settings.from_env()
    message = str(err.value)
    assert all(v in message for v in ("CASCADE_ARTIFACTS_TABLE", "CASCADE_REGISTRY_TABLE", "CASCADE_INDEX_TABLE"))
    assert "CASCADE_BUCKET" not in message and "CASCADE_STAGE" not in message  # set, or with a default
    for name in ("ARTIFACTS_TABLE", "REGISTRY_TABLE", "INDEX_TABLE"):
        monkeypatch.setenv(f"CASCADE_{name}", name.lower())
    settings = Settings.from_env()
    assert settings.max_inline_bytes == 1024 and settings.index_table == "index_table"
