"""Partition-aligned multi-artifact triggers: once per aligned set, in either arrival order, under duplicate
delivery; a later version of one member fires again for its partition only."""

from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.ops.replay import replay
from chalicelib.store.models import VERSION_SHARDS
from tests.integration.conftest import load, redeliver, report, run, runs_of, stage_of

D1 = datetime(2026, 11, 24, 8, tzinfo=timezone.utc)
D2 = datetime(2026, 11, 25, 8, tzinfo=timezone.utc)
D3 = datetime(2026, 11, 26, 8, tzinfo=timezone.utc)
D4 = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
# the tests share one local cloud (module_cloud) and keep apart by day and store


def _joined(rep, *days):
    wanted = {d.date().isoformat() for d in days}
    rows = [(r["outputs"]["o0"]["day"][:10], r["outputs"]["o0"]["units"], r["outputs"]["o0"]["temp"])
            for r in runs_of(rep, "al_joined")]
    return sorted(row for row in rows if row[0] in wanted)


def _versions(rep, name):
    return [a["version"] for a in rep["artifacts"] if a["name"] == name]


def test_sales_first_then_weather_fires_once_per_day_and_refires_for_that_day_only(module_cloud):
    cloud, defs = module_cloud, load("sem_aligned")
    rep = run(cloud, defs, "produce_sales", region="emea", day=D1, units=10)
    assert _joined(rep, D1) == [], "weather of D1 has not arrived"
    rep = run(cloud, defs, "produce_weather", day=D1, temp=5)
    assert _joined(rep, D1) == [("2026-11-24", 10, 5)]

    run(cloud, defs, "produce_weather", day=D2, temp=7)
    rep = run(cloud, defs, "produce_sales", region="us", day=D2, units=99)
    assert _joined(rep, D2) == [], "us sales are outside the member's filter"
    rep = run(cloud, defs, "produce_sales", region="emea", day=D2, units=20)
    assert _joined(rep, D1, D2) == [("2026-11-24", 10, 5), ("2026-11-25", 20, 7)]

    rep = run(cloud, defs, "produce_sales", region="emea", day=D1, units=11)  # a later version for D1
    assert _joined(rep, D1, D2) == [("2026-11-24", 10, 5), ("2026-11-24", 11, 5), ("2026-11-25", 20, 7)]
    assert all(r["status"] == "SUCCEEDED" for r in runs_of(rep, "al_joined"))
    trig = runs_of(rep, "al_joined")[-1]["triggered_by"]
    assert trig["aligned_on"] == {"time_partition": "2026-11-24T00:00:00Z"} and set(trig["set"]) == {"al_sales", "al_weather"}


def test_weather_first_then_sales_and_duplicates_start_nothing_more(module_cloud):
    cloud, defs = module_cloud, load("sem_aligned")
    run(cloud, defs, "produce_weather", day=D3, temp=5)
    rep = run(cloud, defs, "produce_sales", region="emea", day=D3, units=10)
    assert _joined(rep, D3) == [("2026-11-26", 10, 5)]

    before = runs_of(report(cloud), "al_joined")
    for name in ("al_sales", "al_weather"):  # every record again, three times in one batch, then once more
        for version in _versions(rep, name):
            redeliver(cloud, name, version, times=3)
            redeliver(cloud, name, version)
    after = report(cloud)
    assert runs_of(after, "al_joined") == before and _joined(after, D3) == [("2026-11-26", 10, 5)]

    stage = stage_of(cloud)  # a replay goes through the same aligned decision: nothing new starts
    replayed = replay(stage.trigger(), stage.store, "al_weather")
    assert replayed.rows and {r.outcome for r in replayed.rows} == {"already_started"}


def test_members_arriving_together_fire_exactly_once(module_cloud):
    rep = run(module_cloud, load("sem_aligned"), "produce_both", region="emea", day=D4, units=3, temp=9)
    assert _joined(rep, D4) == [("2026-11-27", 3, 9)]


def test_align_on_a_partition_key(module_cloud):
    cloud, defs = module_cloud, load("sem_aligned")
    run(cloud, defs, "produce_orders", store="s1", day=D1, count=4)
    run(cloud, defs, "produce_stock", store="s2", level=50)
    rep = run(cloud, defs, "produce_stock", store="s1", level=30)
    (only,) = runs_of(rep, "al_restock")
    assert only["outputs"]["o0"] == {"store": "s1", "level": 30, "count": 4}
    rep = run(cloud, defs, "produce_orders", store="s1", day=D2, count=6)  # a newer s1 version: a new set
    assert sorted(r["outputs"]["o0"]["count"] for r in runs_of(rep, "al_restock")) == [4, 6]


def test_an_aligned_event_costs_one_query_per_member_and_shard_whatever_the_history(module_cloud):
    cloud, defs = module_cloud, load("sem_aligned")
    day = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    run(cloud, defs, "produce_weather", day=day, temp=1)
    for units in range(4):
        rep = run(cloud, defs, "produce_sales", region="emea", day=day, units=units)
    latest = max(v for v in _versions(rep, "al_sales"))

    from chalicelib import aws

    ddb = aws.client("dynamodb", cloud.settings.region)  # the trigger Lambda's client in the local cloud
    calls: list[str] = []

    def count(event_name, **_):
        calls.append(event_name.rsplit(".", 1)[-1])

    ddb.meta.events.register("before-call.dynamodb.*", count)
    try:
        redeliver(cloud, "al_sales", latest)
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.*", count)
    # get_item reads the record to redeliver; then subscriptions, one Query per member (sales, weather) and
    # write shard, and the start claim (trigger/ledger.py), which the redelivery finds already made
    assert calls == ["GetItem", "Query", *["Query"] * (2 * VERSION_SHARDS), "PutItem"], calls
