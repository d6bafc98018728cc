"""Uploads as artifact sources: files put under uploads/ become versions, and trigger like task outputs.

    uploads/raw_sales/region=<region>/time_partition=<ISO 8601>/<file>.{csv,parquet}  → RawSales
    uploads/price_list/<file>.json                                                   → PriceList
"""

import pandas as pd
from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

RawSales = Artifact(name="raw_sales", partition_keys=["region"], time_partitioned=True, accepts_uploads=True)
PriceList = Artifact(name="price_list", accepts_uploads=True)
# Produced by tasks only: an upload to uploads/sales_report/... is quarantined.
SalesReport = Artifact(name="sales_report", partition_keys=["region"])


@task
def summarize(sales: pd.DataFrame, region: str) -> dict:
    summary = {"region": region, "rows": len(sales), "units": int(sales["units"].sum())}
    print(f"{region}: {summary['rows']} rows, {summary['units']} units")
    return summary


@workflow
def summarize_sales(sales: pd.DataFrame, region: str) -> dict:
    return summarize(sales=sales, region=region)


@task
def check_prices(prices: dict) -> int:
    print(f"{len(prices['items'])} prices")
    return len(prices["items"])


@workflow
def price_check(prices: dict) -> int:
    return check_prices(prices=prices)


on_raw_sales = LaunchPlan.create(
    "summarize_on_upload",
    summarize_sales,
    trigger=OnArtifact(trigger_on=RawSales, inputs={"sales": RawSales, "region": RawSales.partitions.region}),
)
on_price_list = LaunchPlan.create(
    "check_prices_on_upload", price_check, trigger=OnArtifact(trigger_on=PriceList, inputs={"prices": PriceList})
)
