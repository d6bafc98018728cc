"""Trigger input bindings end to end: the downstream receives every binding kind with the right value."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.integration.conftest import load, run, runs_of

DAY = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
YESTERDAY = datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)


def test_every_binding_kind_reaches_the_downstream(cloud):
    defs = load("sem_bindings")
    run(cloud, defs, "produce_targets", region="emea", target=40)
    run(cloud, defs, "produce_targets", region="us", target=70)
    run(cloud, defs, "produce_sales", region="emea", kind="backfill", day=YESTERDAY, units=10)
    rep = run(cloud, defs, "produce_sales", region="emea", kind="daily", day=DAY, units=12)

    reports = runs_of(rep, "b_daily_report")
    assert len(reports) == 1, "only the daily load passes the trigger's filter kind=daily"
    assert reports[0]["status"] == "SUCCEEDED", reports[0].get("cause")
    assert reports[0]["outputs"]["o0"] == {
        "region": "emea",                          # A.partitions.region
        "day": "2026-11-24T00:00:00+00:00",        # A.time_partition, normalized to DAY, UTC-aware
        "today_units": 12 + 13 + 14,               # the triggering version itself, as a DataFrame
        "yesterday_units": 10 + 11 + 12,           # A.query(region=..., time_partition=A.time_partition - 1 day)
        "target": 40,                              # B.query(region=A.partitions.region): emea, not us
        "currency": "EUR",                         # a constant
        "threshold": 0.5,
    }
    assert rep["errors"] == []


def test_filtered_trigger_ignores_other_partitions_and_a_missing_query_fails_clearly(cloud):
    defs = load("sem_bindings")
    run(cloud, defs, "produce_targets", region="us", target=70)
    rep = run(cloud, defs, "produce_sales", region="us", kind="daily", day=DAY, units=5)

    (only,) = runs_of(rep, "b_daily_report")
    assert only["status"] == "FAILED"
    assert only["error"] == "NoMatchingVersionError"
    # names the artifact and the query, with the time partition one day before the trigger's
    assert "b_sales[region=us, time_partition=2026-11-23T00:00:00Z]" in only["cause"]
