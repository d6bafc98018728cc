"""A four-workflow reactive chain.

    A  ingest_orders ── Orders ──┬─▶ B  audit_orders
                                 └─▶ C  build_report ── DailyReport (a file, annotated on C's workflow output)
                                                              │
                                                              ▼
        D  notify(day = DailyReport's time partition, report = the file, prices = Prices.query(same day))

A also writes Prices, the "other artifact" D queries by the trigger's time partition.

    python -m chalicelib run examples/reactive_chain.py ingest_orders --day 2026-11-24
"""

import os
from datetime import datetime

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, FlyteFile, Inputs, LaunchPlan, OnArtifact, current_context, task, workflow

Orders = Artifact(name="chain_orders", time_partitioned=True)
Prices = Artifact(name="chain_prices", time_partitioned=True)
DailyReport = Artifact(name="chain_daily_report", time_partitioned=True)


# -- A ----------------------------------------------------------------------------------------------------
@task
def fetch_orders(day: datetime) -> Annotated[pd.DataFrame, Orders(time_partition=Inputs.day)]:
    return pd.DataFrame({"sku": ["a", "b", "a", "c"], "qty": [1, 2, 3, 4]})


@task
def fetch_prices(day: datetime) -> Annotated[pd.DataFrame, Prices(time_partition=Inputs.day)]:
    return pd.DataFrame({"sku": ["a", "b", "c"], "price": [2.0, 3.0, 5.0]})


@workflow
def ingest_orders(day: datetime) -> pd.DataFrame:
    fetch_prices(day=day)
    return fetch_orders(day=day)


# -- B ----------------------------------------------------------------------------------------------------
@task
def audit(orders: pd.DataFrame) -> int:
    print(f"audited {len(orders)} orders")
    return len(orders)


@workflow
def audit_orders(orders: pd.DataFrame) -> int:
    return audit(orders=orders)


audit_on_orders = LaunchPlan.create("audit_on_orders", audit_orders,
                                    trigger=OnArtifact(trigger_on=Orders, inputs={"orders": Orders}))


# -- C ----------------------------------------------------------------------------------------------------
@task
def render(orders: pd.DataFrame, day: datetime) -> FlyteFile:
    path = os.path.join(current_context().working_directory, f"report-{day.date().isoformat()}.txt")
    by_sku = orders.groupby("sku")["qty"].sum()
    with open(path, "w") as fh:
        fh.write(f"report for {day.date().isoformat()}\n")
        for sku, qty in by_sku.items():
            fh.write(f"{sku} {qty}\n")
    return FlyteFile(path)


@workflow
def build_report(orders: pd.DataFrame, day: datetime) -> Annotated[FlyteFile, DailyReport(time_partition=Inputs.day)]:
    return render(orders=orders, day=day)


report_on_orders = LaunchPlan.get_or_create(
    name="report_on_orders",
    workflow=build_report,
    trigger=OnArtifact(trigger_on=Orders, inputs={"orders": Orders, "day": Orders.time_partition}),
)


# -- D ----------------------------------------------------------------------------------------------------
@task
def send(day: datetime, report: FlyteFile, prices: pd.DataFrame) -> float:
    with open(report.path) as fh:
        lines = fh.read().splitlines()
    qty = {line.split()[0]: int(line.split()[1]) for line in lines[1:]}
    revenue = float(sum(qty[s] * p for s, p in zip(prices["sku"], prices["price"])))
    print(f"day {type(day).__name__} {day.isoformat()}")
    print(f"report {os.path.basename(report.path)}: {lines[0]}")
    print(f"revenue {revenue}")
    return revenue


@workflow
def notify(day: datetime, report: FlyteFile, prices: pd.DataFrame) -> float:
    return send(day=day, report=report, prices=prices)


notify_on_report = LaunchPlan.get_or_create(
    name="notify_on_report",
    workflow=notify,
    trigger=OnArtifact(
        trigger_on=DailyReport,
        inputs={
            "day": DailyReport.time_partition,
            "report": DailyReport,
            "prices": Prices.query(time_partition=DailyReport.time_partition),
        },
    ),
)
