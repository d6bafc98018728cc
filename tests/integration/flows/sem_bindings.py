"""Every trigger binding kind; the downstream task checks what it received."""

from datetime import datetime, timedelta

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifact, task, workflow

Sales = Artifact(name="b_sales", time_partitioned=True, partition_keys=["region", "kind"])
Targets = Artifact(name="b_targets", partition_keys=["region"])


@task
def make_targets(region: str, target: int) -> Annotated[pd.DataFrame, Targets(region=Inputs.region)]:
    return pd.DataFrame({"region": [region], "target": [target]})


@workflow
def produce_targets(region: str, target: int) -> pd.DataFrame:
    return make_targets(region=region, target=target)


@task
def make_sales(region: str, kind: str, day: datetime, units: int) -> Annotated[
        pd.DataFrame, Sales(region=Inputs.region, kind=Inputs.kind, time_partition=Inputs.day)]:
    return pd.DataFrame({"sku": ["a", "b", "c"], "units": [units, units + 1, units + 2]})


@workflow
def produce_sales(region: str, kind: str, day: datetime, units: int) -> pd.DataFrame:
    return make_sales(region=region, kind=kind, day=day, units=units)


@task
def check(today: pd.DataFrame, yesterday: pd.DataFrame, targets: pd.DataFrame, region: str, day: datetime,
          currency: str, threshold: float) -> dict:
    assert isinstance(today, pd.DataFrame) and list(today.columns) == ["sku", "units"], today
    assert isinstance(yesterday, pd.DataFrame) and isinstance(targets, pd.DataFrame)
    assert isinstance(region, str) and isinstance(currency, str) and isinstance(threshold, float)
    assert isinstance(day, datetime) and day.utcoffset() == timedelta(0), day
    print(f"report for {region} on {day.isoformat()}")
    return {"region": region, "day": day.isoformat(), "today_units": int(today["units"].sum()),
            "yesterday_units": int(yesterday["units"].sum()), "target": int(targets["target"].iloc[0]),
            "currency": currency, "threshold": threshold}


@workflow
def daily_report(today: pd.DataFrame, yesterday: pd.DataFrame, targets: pd.DataFrame, region: str, day: datetime,
                 currency: str, threshold: float = 0.1) -> dict:
    return check(today=today, yesterday=yesterday, targets=targets, region=region, day=day, currency=currency,
                 threshold=threshold)


daily_report_lp = LaunchPlan.create(
    "b_daily_report",
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
            "threshold": 0.5,
        },
    ),
)
