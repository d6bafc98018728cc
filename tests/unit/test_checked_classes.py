"""The trigger path's plain classes check what they read from outside (items, stream records, the environment)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

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
    with pytest.raises(dataclasses.FrozenInstanceError):
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
    broken = dataclasses.replace(sub, align={"on": "region", "members": "sales"})
    with pytest.raises(DefinitionError, match="aligned trigger of launch plan 'daily'.*'members'"):
        AlignSpec.of(broken)


def test_a_run_request_reads_back_as_a_claim_recorded_it():
    request = RunRequest(launch_plan="daily", state_machine_arn="arn", name="daily-1", input={"inputs": {}})
    assert RunRequest.from_dict(request.to_dict()) == request
    with pytest.raises(CascadeError, match="lacks 'input'"):
        RunRequest.from_dict({"launch_plan": "daily", "state_machine_arn": "arn", "name": "daily-1"})
