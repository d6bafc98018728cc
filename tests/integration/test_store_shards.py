"""One artifact's versions over the write shards, on the local cloud: they land on every shard, and every
reader (latest, listing, by id, many by id, orphan collection, the trigger) asks every shard; items a stage
wrote before write shards (the unsharded spelling) are still found."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from chalicelib import aws
from chalicelib.errors import NoMatchingVersionError
from chalicelib.ops.register import Registrar
from chalicelib.runtime import loader
from chalicelib.sdk.query import QuerySpec
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.collect import find_orphans
from chalicelib.store.dynamo import from_dynamo, to_dynamo
from chalicelib.store.index import index_items, index_pk
from chalicelib.store.lineage import LineageStore
from chalicelib.store.models import (VERSION_SHARDS, ArtifactVersion, ExecutionProducer, make_version, shard_of,
                                     version_key, versions_pk, versions_pks)
from chalicelib.store.registry import Registry
from tests.conftest import SEED, load_event

DAY = datetime(2026, 11, 24, tzinfo=timezone.utc)
RUN = "arn:aws:states:us-east-1:123456789012:execution:cascade-local-m-wf:run-{}"
COUNT = 120


@pytest.fixture(scope="module")
def cloud() -> Iterator[Any]:
    from chalicelib.local.cloud import LocalCloud

    with LocalCloud() as c:
        yield c


def store(cloud: Any) -> ArtifactStore:
    s = cloud.settings
    return ArtifactStore(s, aws.client("s3", s.region), aws.client("dynamodb", s.region))


def ddb(cloud: Any) -> Any:
    return aws.client("dynamodb", cloud.settings.region)


def write(cloud: Any, name: str, count: int, start: int = 0) -> list[ArtifactVersion]:
    s = store(cloud)
    out = []
    for i in range(start, start + count):
        made = DAY + timedelta(minutes=i)
        region = ("emea", "apac")[i % 2]
        out.append(s.write(name, {"i": i}, {"region": region}, DAY, make_version(made, name, str(i)),
                           produced_by=ExecutionProducer(execution=RUN.format(i))))
    return out


def on_shard(cloud: Any, table: str, pk: str) -> list[str]:
    resp = ddb(cloud).query(TableName=table, KeyConditionExpression="pk = :pk",
                            ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True)
    return [from_dynamo(i)["version"] for i in resp["Items"]]


def to_old_spelling(cloud: Any, version: ArtifactVersion) -> None:
    """Move a version's items to the keys a stage wrote before write shards (shard 0's spelling for all)."""
    s, client = cloud.settings, ddb(cloud)
    key = version_key(version.name, version.version)
    item = client.get_item(TableName=s.artifacts_table, Key=to_dynamo(key), ConsistentRead=True)["Item"]
    client.delete_item(TableName=s.artifacts_table, Key=to_dynamo(key))
    client.put_item(TableName=s.artifacts_table, Item={**item, "pk": {"S": versions_pk(version.name)}})
    for index in index_items(version):
        client.delete_item(TableName=s.index_table, Key=to_dynamo({"pk": index["pk"], "sk": index["sk"]}))
        old = index["pk"].rsplit("#", 1)[0] if shard_of(version.version) else index["pk"]
        client.put_item(TableName=s.index_table, Item=to_dynamo({**index, "pk": old}))


def test_one_artifacts_versions_land_on_every_shard_and_read_back_as_one(cloud):
    name = "sharded_many"
    versions = write(cloud, name, COUNT)
    s = store(cloud)
    per_shard = [on_shard(cloud, cloud.settings.artifacts_table, pk) for pk in versions_pks(name)]
    assert all(per_shard), [len(p) for p in per_shard]  # every shard holds some
    assert max(len(p) for p in per_shard) <= 2.5 * COUNT / VERSION_SHARDS
    assert sorted(v for p in per_shard for v in p) == sorted(v.version for v in versions)
    emea_index = [on_shard(cloud, cloud.settings.index_table, index_pk(name, {"region": "emea"}, None, shard))
                  for shard in range(VERSION_SHARDS)]
    assert sum(1 for p in emea_index if p) >= VERSION_SHARDS - 1

    ids = sorted(v.version for v in versions)
    assert s.latest(name, {}).version == ids[-1]
    assert s.latest(name, {}, DAY).version == ids[-1]
    emea = sorted(v.version for v in versions if v.partitions["region"] == "emea")
    assert s.latest(name, {"region": "emea"}, DAY).version == emea[-1]
    assert s.index.find(QuerySpec(artifact=name, partitions={"region": "emea"})).version == emea[-1]
    with pytest.raises(NoMatchingVersionError):
        s.latest(name, {"region": "amer"})

    assert [v.version for v in s.versions(name)] == ids[::-1]
    assert [v.version for v in s.versions(name, newest_first=False)] == ids
    assert [v.version for v in s.versions(name, limit=7)] == ids[::-1][:7]
    assert [v.version for v in s.versions(name, {"region": "emea"}, limit=5)] == emea[::-1][:5]
    window = s.versions(name, since=DAY + timedelta(minutes=10), until=DAY + timedelta(minutes=30), newest_first=False)
    assert [v.version for v in window] == ids[10:30]
    assert s.get(name, ids[3]).version == ids[3]
    assert set(s.get_many([(name, v) for v in ids])) == {(name, v) for v in ids}


def test_items_written_before_write_shards_are_still_found(cloud):
    name = "sharded_old_stage"
    versions = write(cloud, name, 16)
    old = [v for v in versions if shard_of(v.version) != 0]
    assert len(old) >= 8
    for v in old:  # now every item of the artifact is spelled as before write shards
        to_old_spelling(cloud, v)
    assert len(on_shard(cloud, cloud.settings.artifacts_table, versions_pk(name))) == len(versions)
    assert not any(on_shard(cloud, cloud.settings.artifacts_table, pk) for pk in versions_pks(name)[1:])

    s = store(cloud)
    ids = sorted(v.version for v in versions)
    newest = max(versions, key=lambda v: v.version)
    assert s.latest(name, {}).version == newest.version
    assert s.latest(name, {"region": newest.partitions["region"]}, DAY).version == newest.version
    assert [v.version for v in s.versions(name)] == ids[::-1]
    assert [v.version for v in s.versions(name, {"region": "apac"}, newest_first=False)] == sorted(
        v.version for v in versions if v.partitions["region"] == "apac")
    for v in old:
        assert s.find(name, v.version).uri == v.uri
        assert s.index.find(QuerySpec(artifact=name, version=v.version)).version == v.version
    assert set(s.get_many([(name, v) for v in ids])) == {(name, v) for v in ids}

    # a write retried across the change lands on its shard too: readers still see the version once
    again = s.write(name, {"i": 0}, old[0].partitions, DAY, old[0].version, produced_by=old[0].produced_by)
    assert again.version == old[0].version
    assert [v.version for v in s.versions(name)] == ids[::-1]


def test_collection_keeps_the_data_of_every_shard_and_of_old_items(cloud):
    name = "sharded_gc"
    versions = write(cloud, name, 24)
    to_old_spelling(cloud, next(v for v in versions if shard_of(v.version) != 0))
    s = store(cloud)
    s3 = aws.client("s3", cloud.settings.region)
    orphan = f"artifacts/{name}/region=emea/time_partition=2026-11-24T00:00:00Z/{make_version(DAY, 'x')}.json"
    s3.put_object(Bucket=cloud.settings.bucket, Key=orphan, Body=b"{}")
    report = find_orphans(s, grace=timedelta(0), now=datetime.now(timezone.utc) + timedelta(seconds=1))
    mine = [o for o in report.orphans if o.artifact == name]
    assert [o.key for o in mine] == [orphan]
    assert report.live >= len(versions)


def test_lineage_of_sharded_versions_is_read_by_version(cloud):
    name = "sharded_lineage"
    versions = write(cloud, name, 10)
    lineage = LineageStore(cloud.settings, ddb(cloud))
    for v in versions:
        [edge] = lineage.for_version(name, v.version)
        assert (edge.kind, edge.execution) == ("output", v.execution)


def test_the_trigger_starts_runs_for_a_sharded_stream_record(cloud):
    defs = loader.load_paths([SEED])
    clients = {n: aws.client(n, cloud.settings.region) for n in ("stepfunctions", "lambda")}
    registry = Registry(cloud.settings, ddb(cloud))
    Registrar(cloud.settings, clients["stepfunctions"], registry, cloud.states_role_arn).register(defs)
    event = load_event("dynamodb_stream_insert_sharded.json")
    resp = clients["lambda"].invoke(FunctionName=f"{cloud.settings.prefix}on_artifact_event", Payload=json.dumps(event))
    assert "FunctionError" not in resp
    assert json.loads(resp["Payload"].read()) == {"batchItemFailures": []}
    cloud.wait_quiet(30)
    sfn = clients["stepfunctions"]
    [sm] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"].endswith("downstream_wf")]
    [execution] = sfn.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]
    detail = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(detail["input"])["meta"]["triggered_by"] == {
        "artifact": "my_upstream_artifact", "version": "20261125T150000000Z-0a1b2c3d4e"}
