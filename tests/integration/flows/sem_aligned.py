"""Partition-aligned multi-artifact triggers."""

from datetime import datetime

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifacts, task, workflow

Sales = Artifact(name="al_sales", time_partitioned=True, partition_keys=["region"])
Weather = Artifact(name="al_weather", time_partitioned=True)
Stock = Artifact(name="al_stock", partition_keys=["store"])
Orders = Artifact(name="al_orders", partition_keys=["store"], time_partitioned=True)


@task
def make_sales(region: str, day: datetime, units: int) -> Annotated[
        pd.DataFrame, Sales(region=Inputs.region, time_partition=Inputs.day)]:
    return pd.DataFrame({"units": [units]})


@task
def make_weather(day: datetime, temp: int) -> Annotated[pd.DataFrame, Weather(time_partition=Inputs.day)]:
    return pd.DataFrame({"temp": [temp]})


@workflow
def produce_sales(region: str, day: datetime, units: int) -> pd.DataFrame:
    return make_sales(region=region, day=day, units=units)


@workflow
def produce_weather(day: datetime, temp: int) -> pd.DataFrame:
    return make_weather(day=day, temp=temp)


@workflow
def produce_both(region: str, day: datetime, units: int, temp: int) -> None:
    make_sales(region=region, day=day, units=units)
    make_weather(day=day, temp=temp)


@task
def combine(sales: pd.DataFrame, weather: pd.DataFrame, day: datetime, region: str) -> dict:
    out = {"day": day.isoformat(), "region": region, "units": int(sales["units"].iloc[0]),
           "temp": int(weather["temp"].iloc[0])}
    print(f"aligned {out}")
    return out


@workflow
def joined(sales: pd.DataFrame, weather: pd.DataFrame, day: datetime, region: str) -> dict:
    return combine(sales=sales, weather=weather, day=day, region=region)


joined_lp = LaunchPlan.create(
    "al_joined",
    joined,
    trigger=OnArtifacts(
        all_of=[Sales.query(region="emea"), Weather],
        align_on="time_partition",
        inputs={"sales": Sales, "weather": Weather, "day": Weather.time_partition, "region": Sales.partitions.region},
    ),
)


@task
def make_stock(store: str, level: int) -> Annotated[int, Stock(store=Inputs.store)]:
    return level


@task
def make_orders(store: str, day: datetime, count: int) -> Annotated[int, Orders(store=Inputs.store, time_partition=Inputs.day)]:
    return count


@workflow
def produce_stock(store: str, level: int) -> int:
    return make_stock(store=store, level=level)


@workflow
def produce_orders(store: str, day: datetime, count: int) -> int:
    return make_orders(store=store, day=day, count=count)


@task
def restock(level: int, count: int, store: str) -> dict:
    return {"store": store, "level": level, "count": count}


@workflow
def restock_wf(level: int, count: int, store: str) -> dict:
    return restock(level=level, count=count, store=store)


restock_lp = LaunchPlan.create(
    "al_restock",
    restock_wf,
    trigger=OnArtifacts(all_of=[Stock, Orders], align_on="store",
                        inputs={"level": Stock, "count": Orders, "store": Orders.partitions.store}),
)
