"""Every form of artifact annotation, on task outputs and on a workflow output.

    python -m chalicelib run examples/flyte_annotations.py annotations_wf --region apac --day 2026-11-24T17:45:00Z
"""

from datetime import datetime, timezone

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Granularity, ImageSpec, Inputs, task, workflow

image = ImageSpec(name="annotations", packages=["pandas"])

Plain = Artifact(name="plain_table")  # Annotated[T, A]: the artifact itself, not called
Counted = Artifact(name="row_count")  # Annotated[T, A()]
ByRegion = Artifact(name="region_totals", partition_keys=["region"])  # Annotated[T, A(key=Inputs.x)]
Hourly = Artifact(name="hourly_snapshot", time_partitioned=True,
                  time_partition_granularity=Granularity.HOUR)  # Annotated[T, A(time_partition=Inputs.t)]
Daily = Artifact(name="daily_summary", time_partitioned=True, partition_keys=["region"])  # workflow level


@task(container_image=image)
def load(region: str) -> Annotated[pd.DataFrame, Plain]:
    return pd.DataFrame({"region": [region] * 3, "units": [4, 5, 6]})


@task
def count(df: pd.DataFrame) -> Annotated[int, Counted()]:
    return len(df)


@task
def totals(df: pd.DataFrame, region: str) -> Annotated[dict, ByRegion(region=Inputs.region)]:
    return {"region": region, "units": int(df["units"].sum())}


@task
def snapshot(df: pd.DataFrame, at: datetime) -> Annotated[pd.DataFrame, Hourly(time_partition=Inputs.at)]:
    return df.assign(at=at.isoformat())


@task
def summarize(df: pd.DataFrame, rows: int) -> pd.DataFrame:
    return pd.DataFrame({"rows": [rows], "units": [int(df["units"].sum())]})


@workflow
def annotations_wf(region: str = "emea", day: datetime = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)) -> Annotated[
        pd.DataFrame, Daily(region=Inputs.region, time_partition=Inputs.day)]:
    df = load(region=region)
    rows = count(df=df)
    totals(df=df, region=region)
    snapshot(df=df, at=day)
    return summarize(df=df, rows=rows)


# Workflow-level forms without bindings: the artifact itself, and the artifact called with nothing.
WfPlain = Artifact(name="wf_plain")
WfCalled = Artifact(name="wf_called")


@task
def double(n: int) -> int:
    return 2 * n


@workflow
def plain_wf(n: int = 21) -> Annotated[int, WfPlain]:
    return double(n=n)


@workflow
def called_wf(n: int = 4) -> Annotated[int, WfCalled()]:
    return double(n=n)
