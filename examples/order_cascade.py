"""Three workflows chained by artifact triggers: ingest → clean → summarize.

    python -m chalicelib run examples/order_cascade.py ingest --region emea
    python -m chalicelib lineage clean_orders      # against a running local cloud or a deployed stage

`ingest` writes raw_orders; a new raw_orders version triggers `clean`, which writes clean_orders; a new
clean_orders version triggers `summarize`, which also reads the latest raw_orders of the same region
through a query, and writes order_summary.
"""

from datetime import datetime

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifact, task, workflow

RawOrders = Artifact(name="raw_orders", time_partitioned=True, partition_keys=["region"])
CleanOrders = Artifact(name="clean_orders", time_partitioned=True, partition_keys=["region"])
OrderSummary = Artifact(name="order_summary", partition_keys=["region"])


@task
def load_orders(region: str, note: str) -> Annotated[pd.DataFrame, RawOrders(region=Inputs.region)]:
    print(f"loading orders for {region}; note: {note}")
    df = pd.DataFrame({"order": [1, 2, 3, 4], "amount": [10.0, -1.0, 25.5, 4.5]})
    return RawOrders.create_from(df, region=region, time_partition=datetime(2026, 11, 24))


@workflow
def ingest(region: str = "emea", note: str = "") -> pd.DataFrame:
    return load_orders(region=region, note=note)


@task
def drop_refunds(orders: pd.DataFrame, region: str) -> Annotated[pd.DataFrame, CleanOrders(region=Inputs.region)]:
    kept = orders[orders["amount"] > 0].reset_index(drop=True)
    print(f"kept {len(kept)} of {len(orders)} orders")
    return CleanOrders.create_from(kept, region=region, time_partition=datetime(2026, 11, 24))


@workflow
def clean(orders: pd.DataFrame, region: str) -> pd.DataFrame:
    return drop_refunds(orders=orders, region=region)


@task
def total(clean: pd.DataFrame, raw: pd.DataFrame, region: str) -> Annotated[dict, OrderSummary(region=Inputs.region)]:
    summary = {"orders": int(len(clean)), "dropped": int(len(raw) - len(clean)), "amount": float(clean["amount"].sum())}
    print(f"summary for {region}: {summary}")
    return summary


@workflow
def summarize(clean: pd.DataFrame, raw: pd.DataFrame, region: str) -> dict:
    return total(clean=clean, raw=raw, region=region)


clean_on_raw = LaunchPlan.create(
    "clean_on_raw",
    clean,
    trigger=OnArtifact(trigger_on=RawOrders, inputs={"orders": RawOrders, "region": RawOrders.partitions.region}),
)

summarize_on_clean = LaunchPlan.create(
    "summarize_on_clean",
    summarize,
    trigger=OnArtifact(
        trigger_on=CleanOrders,
        inputs={
            "clean": CleanOrders,
            "raw": RawOrders.query(region=CleanOrders.partitions.region, time_partition=CleanOrders.time_partition),
            "region": CleanOrders.partitions.region,
        },
    ),
)
