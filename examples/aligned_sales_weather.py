"""A partition-aligned trigger: forecast once both sales and weather exist for the same day.

`daily_loads` loads weather, then sales for two regions, then a corrected sales load for one day. The
forecast fires once per day when both members have a version for it (only emea sales take part), and
again for that day only when the correction arrives.

    python -m chalicelib run examples/aligned_sales_weather.py daily_loads --json
"""

from datetime import datetime, timezone

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifacts, task, workflow

Sales = Artifact(name="aligned_sales", time_partitioned=True, partition_keys=["region"])
Weather = Artifact(name="aligned_weather", time_partitioned=True)

DAY = datetime(2026, 11, 24, tzinfo=timezone.utc)


@task
def load_weather(day: datetime, temp: float) -> Annotated[pd.DataFrame, Weather(time_partition=Inputs.day)]:
    return pd.DataFrame({"hour": range(24), "temp": [temp] * 24})


@task
def load_sales(region: str, day: datetime, units: int, after: pd.DataFrame) -> Annotated[
        pd.DataFrame, Sales(region=Inputs.region, time_partition=Inputs.day)]:
    return pd.DataFrame({"sku": ["a", "b"], "units": [units, units // 2]})


@workflow
def daily_loads(day: datetime = DAY) -> pd.DataFrame:
    weather = load_weather(day=day, temp=11.5)
    emea = load_sales(region="emea", day=day, units=100, after=weather)
    load_sales(region="us", day=day, units=300, after=weather)
    return load_sales(region="emea", day=day, units=120, after=emea)  # a correction of the same day


@task
def forecast(sales: pd.DataFrame, weather: pd.DataFrame, day: datetime, region: str) -> dict:
    units = int(sales["units"].sum())
    temp = float(weather["temp"].mean())
    print(f"forecast for {region} on {day.date()}: {units} units at {temp} degrees")
    return {"region": region, "day": day.isoformat(), "units": units, "temp": temp}


@workflow
def forecast_wf(sales: pd.DataFrame, weather: pd.DataFrame, day: datetime, region: str) -> dict:
    return forecast(sales=sales, weather=weather, day=day, region=region)


forecast_lp = LaunchPlan.create(
    "forecast_when_aligned",
    forecast_wf,
    trigger=OnArtifacts(
        all_of=[Sales.query(region="emea"), Weather],
        align_on="time_partition",
        inputs={"sales": Sales, "weather": Weather, "day": Sales.time_partition, "region": Sales.partitions.region},
    ),
)
