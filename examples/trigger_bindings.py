"""Every kind of trigger input binding, and a query default.

`ingest` writes yesterday's sales as a backfill and today's as the daily load. The daily load triggers
`daily_report`, whose inputs are bound from the trigger: the new version itself (a DataFrame), its
partition and time partition, yesterday's version of the same region (a query relative to the trigger,
on a subset of the partition keys), the region's targets (a query on another artifact aligned to the
trigger's partition) and a constant. `latest_targets` uses a query as a workflow input default.

    python -m chalicelib run examples/trigger_bindings.py ingest --json
"""

from datetime import datetime, timedelta, timezone

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifact, task, workflow

Sales = Artifact(name="region_sales", time_partitioned=True, partition_keys=["region", "kind"])
Targets = Artifact(name="region_targets", partition_keys=["region"])


@task
def set_targets(region: str, target: int) -> Annotated[pd.DataFrame, Targets(region=Inputs.region)]:
    return pd.DataFrame({"region": [region], "target": [target]})


@task
def load_sales(region: str, kind: str, day: datetime, days_back: int, units: int, after: pd.DataFrame) -> Annotated[
        pd.DataFrame, Sales(region=Inputs.region, kind=Inputs.kind)]:
    df = pd.DataFrame({"sku": ["a", "b", "c"], "units": [units, units + 1, units + 2]})
    return Sales.create_from(df, region=region, kind=kind, time_partition=day - timedelta(days=days_back))


@workflow
def ingest(region: str = "emea", day: datetime = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)) -> pd.DataFrame:
    targets = set_targets(region=region, target=40)
    yesterday = load_sales(region=region, kind="backfill", day=day, days_back=1, units=10, after=targets)
    return load_sales(region=region, kind="daily", day=day, days_back=0, units=12, after=yesterday)


@task
def compare(today: pd.DataFrame, yesterday: pd.DataFrame, targets: pd.DataFrame, region: str, day: datetime,
            currency: str) -> dict:
    growth = int(today["units"].sum() - yesterday["units"].sum())
    target = int(targets["target"].iloc[0])
    print(f"{region} {day.date().isoformat()} ({day.tzinfo}): {int(today['units'].sum())} units, "
          f"{growth:+d} on yesterday, target {target} {currency}")
    return {"region": region, "day": day.isoformat(), "units": int(today["units"].sum()), "growth": growth,
            "target": target, "currency": currency}


@workflow
def daily_report(today: pd.DataFrame, yesterday: pd.DataFrame, targets: pd.DataFrame, region: str,
                 day: datetime, currency: str = "USD") -> dict:
    return compare(today=today, yesterday=yesterday, targets=targets, region=region, day=day, currency=currency)


daily_report_lp = LaunchPlan.create(
    "daily_report_lp",
    daily_report,
    trigger=OnArtifact(
        trigger_on=Sales.query(kind="daily"),
        inputs={
            "today": Sales,
            "yesterday": Sales.query(region=Sales.partitions.region,
                                     time_partition=Sales.time_partition - timedelta(days=1)),
            "targets": Targets.query(region=Sales.partitions.region),
            "region": Sales.partitions.region,
            "day": Sales.time_partition,
            "currency": "EUR",
        },
    ),
)


@task
def show_targets(targets: pd.DataFrame) -> int:
    print(f"latest targets: {targets.to_dict('records')}")
    return int(targets["target"].iloc[0])


@workflow
def latest_targets(targets: pd.DataFrame = Targets.query(region="emea")) -> int:
    return show_targets(targets=targets)
