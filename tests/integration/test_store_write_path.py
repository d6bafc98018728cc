"""The store's one write path, at its edges: many index items, an item over DynamoDB's limit, a conflicting
producer, and a write that fails part-way (every kind of version is invisible until its metadata item)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib import aws
from chalicelib.errors import ArtifactError, NoMatchingVersionError, VersionConflictError
from chalicelib.local.faults import FaultInjector
from chalicelib.sdk.files import FlyteDirectory, FlyteFile
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import ExecutionProducer, make_version

DAY = datetime(2026, 11, 24, tzinfo=timezone.utc)
RUN = "arn:aws:states:us-east-1:123456789012:execution:cascade-local-m-wf:run-1"


def store(cloud: Any) -> ArtifactStore:
    s = cloud.settings
    return ArtifactStore(s, aws.client("s3", s.region), aws.client("dynamodb", s.region))


def keys(cloud: Any, prefix: str = "artifacts/") -> set[str]:
    s3 = aws.client("s3", cloud.settings.region)
    return {o["Key"] for o in s3.list_objects_v2(Bucket=cloud.settings.bucket, Prefix=prefix).get("Contents", [])}


def test_a_version_with_more_index_items_than_a_transaction_holds_is_still_found_by_every_subset(cloud):
    partitions = {f"k{i}": f"v{i}" for i in range(6)}  # 2^6 subsets, with and without the day: 128 index items
    version = make_version(DAY, "wide")
    s = store(cloud)
    made = s.write("wide", {"n": 1}, partitions, DAY, version, produced_by=ExecutionProducer(execution=RUN))
    for size in (0, 3, 6):
        for subset in itertools.combinations(sorted(partitions), size):
            part = {k: partitions[k] for k in subset}
            assert s.latest("wide", part).version == version
            assert s.latest("wide", part, DAY).version == version
    assert s.load(made) == {"n": 1}
    assert [e.kind for e in s.lineage.for_version("wide", version)] == ["output"]


def test_a_card_over_the_item_limit_is_refused_before_anything_is_written(cloud):
    before = keys(cloud)
    with pytest.raises(ArtifactError, match="400 KB"):
        store(cloud).write("carded", {"n": 1}, {}, None, make_version(DAY, "card"), produced_by="test",
                           card={"kind": "ModelCard", "text": "x" * 410_000})
    assert keys(cloud) == before
    with pytest.raises(NoMatchingVersionError):
        store(cloud).latest("carded", {})


def test_a_second_producer_of_the_same_version_changes_nothing(cloud):
    s = store(cloud)
    version = make_version(DAY, "conflict")
    first = s.write("contested", {"by": "first"}, {"site": "a"}, None, version,
                    produced_by=ExecutionProducer(execution=RUN))
    again = s.write("contested", {"by": "first"}, {"site": "a"}, None, version,
                    produced_by=ExecutionProducer(execution=RUN))  # a retry of the same producer
    assert again.version == first.version and again.execution == RUN
    with pytest.raises(VersionConflictError, match="already made by execution run-1"):
        s.write("contested", {"by": "second"}, {"site": "a"}, None, version, produced_by="s3://elsewhere/upload.json")
    assert s.latest("contested", {"site": "a"}).produced_by == first.produced_by  # the index kept the first
    assert s.load(s.get("contested", version)) == {"by": "first"}


@pytest.mark.parametrize("kind", ["value", "file", "directory"])
def test_a_write_that_fails_part_way_leaves_an_invisible_collectable_version(cloud, tmp_path, kind):
    s = store(cloud)
    if kind == "file":
        (tmp_path / "orders.csv").write_text("sku,units\na,1\n")
        value: Any = FlyteFile(str(tmp_path / "orders.csv"))
    elif kind == "directory":
        (tmp_path / "parts").mkdir()
        for i in range(3):
            (tmp_path / "parts" / f"part-{i}.txt").write_text(str(i))
        value = FlyteDirectory(str(tmp_path / "parts"))
    else:
        value = {"n": 1}
    version = make_version(DAY, "half", kind)
    faults = FaultInjector(1.0, operations=["TransactWriteItems"], lost_share=0.0).attach(s.dynamodb)
    try:
        with pytest.raises(Exception):
            s.write("halfway", value, {"kind": kind}, DAY, version, produced_by=ExecutionProducer(execution=RUN))
    finally:
        faults.detach()
    left = {k for k in keys(cloud) if version in k}
    assert left, "the data was written before the metadata"
    assert s.find("halfway", version) is None
    with pytest.raises(NoMatchingVersionError):
        s.latest("halfway", {"kind": kind})  # no index item either: no query finds it
    assert s.lineage.for_version("halfway", version) == []

    from click.testing import CliRunner

    from chalicelib.cli import main

    report = json.loads(CliRunner().invoke(main, ["gc", "--grace-hours", "0", "--json"]).output)
    assert {o["key"] for o in report["orphans"]} >= left and set(report["deleted"]) >= left
    assert not {k for k in keys(cloud) if version in k}
