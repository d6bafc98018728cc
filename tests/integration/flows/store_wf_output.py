"""A FlyteFile made by a workflow-level output annotation (partitioned and time-partitioned), read
downstream through queries, with lineage on both sides of it.

    ingest_sales(region, day) ── store_sales (DataFrame, region × day)
        └─▶ report_on_sales: build_report(sales, region, day)
                -> Annotated[FlyteFile, ReportFile(region=Inputs.region, time_partition=Inputs.day)]
                └─▶ notify_on_report: notify(day, report = ReportFile.query(region=..., time_partition=...))
    read_latest_report(report = ReportFile.query(region="emea"))      started by hand

    python -m chalicelib run tests/integration/flows/store_wf_output.py ingest_sales --region emea --day 2026-11-24
"""

import os
from datetime import datetime

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, FlyteFile, Inputs, LaunchPlan, current_context, task, workflow
from chalicelib.artifacts import OnArtifact

Sales = Artifact(name="store_sales", partition_keys=["region"], time_partitioned=True)
ReportFile = Artifact(name="store_report_file", partition_keys=["region"], time_partitioned=True)


@task
def fetch_sales(region: str, day: datetime, units: int) -> Annotated[
        pd.DataFrame, Sales(region=Inputs.region, time_partition=Inputs.day)]:
    return pd.DataFrame({"sku": ["a", "b", "c"], "units": [units, 2 * units, 3 * units]})


@workflow
def ingest_sales(region: str = "emea", day: datetime = datetime(2026, 11, 24), units: int = 5) -> pd.DataFrame:
    return fetch_sales(region=region, day=day, units=units)


@task
def render(sales: pd.DataFrame, region: str, day: datetime) -> FlyteFile:
    path = os.path.join(current_context().working_directory, f"report-{region}.txt")
    with open(path, "w") as fh:
        fh.write(f"{region} {day.date().isoformat()} units={int(sales['units'].sum())}\n")
    return FlyteFile(path)


@workflow
def build_report(sales: pd.DataFrame, region: str, day: datetime) -> Annotated[
        FlyteFile, ReportFile(region=Inputs.region, time_partition=Inputs.day)]:
    return render(sales=sales, region=region, day=day)


report_on_sales = LaunchPlan.create(
    "store_report_on_sales", build_report,
    trigger=OnArtifact(trigger_on=Sales, inputs={"sales": Sales, "region": Sales.partitions.region,
                                                  "day": Sales.time_partition}),
)


@task
def read_report(report: FlyteFile) -> str:
    with open(report.path) as fh:
        text = fh.read().strip()
    print(f"report says: {text}")
    return text


@workflow
def notify(day: datetime, report: FlyteFile) -> str:
    return read_report(report=report)


notify_on_report = LaunchPlan.create(
    "store_notify_on_report", notify,
    trigger=OnArtifact(trigger_on=ReportFile, inputs={
        "day": ReportFile.time_partition,
        "report": ReportFile.query(region=ReportFile.partitions.region, time_partition=ReportFile.time_partition),
    }),
)


@workflow
def read_latest_report(report: FlyteFile = ReportFile.query(region="emea")) -> str:
    return read_report(report=report)
