"""A variant of the seed: a region-partitioned daily artifact, and a triggered report."""

from datetime import datetime

import pandas as pd
from chalicelib import ImageSpec, task, workflow, LaunchPlan
from chalicelib import Artifact, Inputs
from typing_extensions import Annotated
from chalicelib import OnArtifact

image = ImageSpec(name="sales", packages=["pandas==2.2.3"], registry="ghcr.io/example")

DailySales = Artifact(
    name="daily_sales",
    time_partitioned=True,
    partition_keys=["region"],
)


@task(container_image=image)
def extract(region: str, units: int) -> Annotated[pd.DataFrame, DailySales(region=Inputs.region)]:
    df = pd.DataFrame({"sku": ["a", "b", "c", "d"], "units": [units, units * 2, units * 3, units * 4]})
    return DailySales.create_from(df, region=region, time_partition=datetime(2026, 11, 24, 18, 30))


@workflow
def ingest(region: str = "emea", units: int = 5) -> pd.DataFrame:
    return extract(region=region, units=units)


@task
def announce():
    print("new daily sales arrived")
    print("second line")


@workflow
def report():
    announce()


report_on_sales = LaunchPlan.create(
    "report_on_sales",
    report,
    trigger=OnArtifact(trigger_on=DailySales),
)
