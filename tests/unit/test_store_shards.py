"""Write shards of an artifact's keys: where versions land, how every shard spelling is recognised, and how
the shards' answers are merged. Pure: no cloud."""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import InvalidNameError, MalformedRecordError
from chalicelib.events.stream import version_from_record
from chalicelib.sdk.charset import check_name, check_value
from chalicelib.store import shards
from chalicelib.store.index import index_items, index_pk, index_pks
from chalicelib.store.models import (SHARD_MARK, VERSION_SHARDS, ArtifactVersion, is_version_key, make_version,
                                     shard_of, version_key, version_keys, versions_pk, versions_pks)
from tests.conftest import load_event

START = datetime(2026, 11, 25, 15, tzinfo=timezone.utc)


def made(n: int) -> list[str]:
    """`n` version ids as producers make them: one execution's task per millisecond."""
    return [make_version(START + timedelta(milliseconds=i), f"arn:run-{i}", "n0", "o0") for i in range(n)]


def test_the_versions_of_one_artifact_spread_over_every_shard():
    spread = Counter(shard_of(v) for v in made(400))
    assert sorted(spread) == list(range(VERSION_SHARDS))
    mean = 400 / VERSION_SHARDS
    assert all(0.6 * mean <= count <= 1.4 * mean for count in spread.values()), spread
    assert len({version_key("a", v)["pk"] for v in made(400)}) == VERSION_SHARDS


def test_shard_zero_keeps_the_unsharded_spelling_and_the_others_a_suffix():
    assert versions_pks("sales") == ["A#sales"] + [f"A#sales#{s}" for s in range(1, VERSION_SHARDS)]
    assert index_pks("sales", {"region": "emea"}, None)[0] == "Q#sales|region=emea|"
    assert index_pk("sales", {}, START, 3) == "Q#sales||2026-11-25T15:00:00Z#3"
    for v in made(50):
        key = version_key("sales", v)
        assert key == {"pk": versions_pks("sales")[shard_of(v)], "sk": f"V#{v}"}
        # a version is looked for on its shard, then (written before shards) under the unsharded key
        assert version_keys("sales", v) == ([key] if shard_of(v) == 0 else [key, {"pk": "A#sales", "sk": f"V#{v}"}])


def test_a_version_and_its_index_items_share_one_shard():
    for v in made(30):
        version = ArtifactVersion(name="sales", version=v, partitions={"region": "emea"}, time_partition=START,
                                  uri="s3://b/k", format="json")
        item = version.to_item()
        assert item["pk"] == version_key("sales", v)["pk"]
        shard = shard_of(v)
        assert {i["pk"] for i in index_items(version)} == {
            index_pk("sales", p, tp, shard) for p in ({}, {"region": "emea"}) for tp in (None, START)}
        assert not any(k.startswith("gsi") for k in item)


def test_the_suffix_cannot_spell_another_legal_name():
    # `A#<name>#<shard>` could only equal `A#<other name>` if a name or value held the mark
    with pytest.raises(InvalidNameError):
        check_name("artifact", f"sales{SHARD_MARK}1")
    with pytest.raises(InvalidNameError):
        check_value("sales", "region", f"emea{SHARD_MARK}1")
    assert not re.search(re.escape(SHARD_MARK), "2026-11-25T00:00:00Z")  # nor a time partition


def test_every_shard_spelling_is_a_version_key_and_nothing_else():
    for pk in versions_pks("sales"):
        assert is_version_key(pk, "V#20261125T150000000Z-0a1b2c3d4e")
    assert not is_version_key("A#sales#0", "V#x")  # shard 0 has no suffix
    assert not is_version_key(f"A#sales#{VERSION_SHARDS}", "V#x")  # no such shard
    assert not is_version_key("Q#sales||#3", "V#x") and not is_version_key("A#sales#3", "LOG#x")
    assert is_version_key("A#sa#les", "V#x")  # a forged name is a version key, refused by its name later


def test_a_stream_record_of_a_sharded_key_announces_its_version():
    record = load_event("dynamodb_stream_insert_sharded.json")["Records"][0]
    version = version_from_record(record)
    assert version.name == "my_upstream_artifact" and version.version == "20261125T150000000Z-0a1b2c3d4e"
    assert record["dynamodb"]["Keys"]["pk"]["S"] == version_key(version.name, version.version)["pk"]
    assert shard_of(version.version) != 0


def test_a_stream_record_written_before_shards_still_announces_its_version():
    record = load_event("dynamodb_stream_insert.json")["Records"][0]  # the unsharded key, GSI attributes and all
    version = version_from_record(record)
    assert record["dynamodb"]["NewImage"]["pk"]["S"] == versions_pk(version.name) != version_key(
        version.name, version.version)["pk"]


def test_a_stream_record_on_the_wrong_shard_is_refused():
    record = copy.deepcopy(load_event("dynamodb_stream_insert_sharded.json")["Records"][0])
    wrong = (shard_of("20261125T150000000Z-0a1b2c3d4e") + 1) % VERSION_SHARDS or 1
    record["dynamodb"]["NewImage"]["pk"]["S"] = f"A#my_upstream_artifact#{wrong}"
    with pytest.raises(MalformedRecordError, match="does not match"):
        version_from_record(record)


def test_merged_shards_come_in_sort_key_order_once_each():
    a = [{"sk": "V#1"}, {"sk": "V#4"}, {"sk": "V#6"}]
    b = [{"sk": "V#2"}, {"sk": "V#4"}]
    c: list[dict[str, str]] = []
    assert [i["sk"] for i in shards.merged([iter(a), iter(b), iter(c)], descending=False)] == [
        "V#1", "V#2", "V#4", "V#6"]
    assert [i["sk"] for i in shards.merged([iter(a[::-1]), iter(b[::-1])], descending=True)] == [
        "V#6", "V#4", "V#2", "V#1"]
    assert shards.newest([None, {"sk": "V#3"}, {"sk": "V#9"}, None]) == {"sk": "V#9"}
    assert shards.newest([None, None]) is None


def test_each_shard_read_answers_in_key_order():
    keys = [f"k{i}" for i in range(VERSION_SHARDS)]
    assert shards.each(str.upper, keys) == [k.upper() for k in keys]
