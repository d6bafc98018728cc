"""Artifact queries: the latest of many in one Query (no Scan), partial partition sets, a specific version,
clear no-match errors, and time partitions normalized to the artifact's granularity in UTC."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import NoMatchingVersionError, UnknownArtifactError
from chalicelib.sdk.query import QuerySpec
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.index import ArtifactIndex
from chalicelib.store.models import VERSION_SHARDS, make_version
from tests.integration.conftest import load, run, stage_of

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
REGIONS = ["emea", "us", "apj"]
CHANNELS = ["web", "store"]


def _write_many(cloud, n: int = 36) -> dict[tuple[str, str], tuple[str, int]]:
    """n versions of q_targets over every (region, channel), written in shuffled order; the latest per key."""
    stage = stage_of(cloud)
    from chalicelib import aws

    store = ArtifactStore(cloud.settings, aws.client("s3", cloud.settings.region), stage.dynamodb)
    rows = []
    for i in range(n):
        region, channel = REGIONS[i % 3], CHANNELS[(i // 3) % 2]
        rows.append((make_version(T0 + timedelta(minutes=i), f"producer-{i}"), region, channel, 100 + i))
    random.Random(5).shuffle(rows)
    latest: dict[tuple[str, str], tuple[str, int]] = {}
    for version, region, channel, value in rows:
        store.write("q_targets", value, {"region": region, "channel": channel}, None, version, produced_by="test")
        if (region, channel) not in latest or latest[(region, channel)][0] < version:
            latest[(region, channel)] = (version, value)
    return latest


def _newest(latest, region=None, channel=None) -> int:
    hits = [(v, val) for (r, c), (v, val) in latest.items() if region in (None, r) and channel in (None, c)]
    return max(hits)[1]


def test_query_defaults_resolve_to_the_latest_of_many_versions(cloud):
    latest = _write_many(cloud)
    defs = load("sem_queries")
    for workflow, expected in [("latest_emea", _newest(latest, region="emea")),
                               ("latest_web", _newest(latest, channel="web")),
                               ("latest_any", _newest(latest))]:
        rep = run(cloud, defs, workflow)
        (ex,) = [e for e in rep["executions"] if e["workflow"].endswith(workflow)]
        assert ex["status"] == "SUCCEEDED", ex.get("cause")
        assert ex["outputs"]["o0"] == expected, workflow


def test_each_resolution_is_one_query_per_write_shard_and_no_scan(cloud):
    latest = _write_many(cloud, n=48)
    index = ArtifactIndex.of(stage_of(cloud).dynamodb, cloud.settings)
    calls: list[str] = []

    def count(event_name, **_):
        calls.append(event_name.rsplit(".", 1)[-1])

    index.dynamodb.meta.events.register("before-call.dynamodb.*", count)
    try:
        for body, expected in [
            ({"artifact": "q_targets", "partitions": {"region": "us"}}, _newest(latest, region="us")),
            ({"artifact": "q_targets", "partitions": {"channel": "store"}}, _newest(latest, channel="store")),
            ({"artifact": "q_targets", "partitions": {"region": "apj", "channel": "web"}}, _newest(latest, "apj", "web")),
            ({"artifact": "q_targets"}, _newest(latest)),
        ]:
            calls.clear()
            found = index.find(QuerySpec.from_literal(body))
            assert calls == ["Query"] * VERSION_SHARDS, (body, calls)
            assert found.version == max(v for (r, c), (v, val) in latest.items()
                                        if all({"region": r, "channel": c}[k] == x for k, x in body.get("partitions", {}).items()))
            assert expected >= 100
    finally:
        index.dynamodb.meta.events.unregister("before-call.dynamodb.*", count)


def test_a_specific_version_and_its_mismatch(cloud):
    latest = _write_many(cloud, n=12)
    index = ArtifactIndex.of(stage_of(cloud).dynamodb, cloud.settings)
    old_version, old_value = min(latest.values())
    found = index.find(QuerySpec.from_literal({"artifact": "q_targets", "version": old_version}))
    assert found.version == old_version and found.partitions
    with pytest.raises(NoMatchingVersionError, match="does not match q_targets"):
        other = "us" if found.partitions["region"] != "us" else "emea"
        index.find(QuerySpec.from_literal({"artifact": "q_targets", "version": old_version,
                                           "partitions": {"region": other}}))
    with pytest.raises(UnknownArtifactError, match="has no version '20990101T000000000Z-nope'"):
        index.find(QuerySpec.from_literal({"artifact": "q_targets", "version": "20990101T000000000Z-nope"}))


def test_no_match_fails_the_run_with_the_artifact_and_query_named(cloud):
    _write_many(cloud, n=6)
    rep = run(cloud, load("sem_queries"), "latest_apac")
    (ex,) = [e for e in rep["executions"] if e["workflow"].endswith("latest_apac")]
    assert ex["status"] == "FAILED" and ex["error"] == "NoMatchingVersionError"
    assert "artifact 'q_targets'" in ex["cause"] and "q_targets[region=apac]" in ex["cause"]


def test_relative_queries_respect_month_granularity(cloud):
    defs = load("sem_queries")
    # produced mid-month in a +02:00 zone: normalized to the first of the month, UTC
    run(cloud, defs, "produce_month", region="archive", when=datetime(2026, 10, 17, 1, 30, tzinfo=timezone(timedelta(hours=2))), value=7)
    rep = run(cloud, defs, "produce_month", region="live", when=datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc), value=9)
    (ex,) = [e for e in rep["executions"] if e["launch_plan"] == "q_month_over_month"]
    assert ex["status"] == "SUCCEEDED", ex.get("cause")
    assert ex["outputs"]["o0"] == {"this": 9, "last": 7, "month": "2026-11-01T00:00:00+00:00"}
    months = sorted(a["time_partition"] for a in rep["artifacts"] if a["name"] == "q_monthly")
    assert months == ["2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"]


def test_hour_granularity_normalizes_in_utc(cloud):
    rep = run(cloud, load("sem_queries"), "produce_hour",
              when=datetime(2026, 11, 25, 13, 45, 10, tzinfo=timezone(timedelta(hours=2))))
    (hour,) = [a for a in rep["artifacts"] if a["name"] == "q_hourly"]
    assert hour["time_partition"] == "2026-11-25T11:00:00Z"
