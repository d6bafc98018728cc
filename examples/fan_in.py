"""Fan-out and fan-in: one extract, three independent summaries in parallel, one combine.

The DataFrame passes between tasks by reference (parquet in S3), never inside the Step Functions state.

    python -m chalicelib run examples/fan_in.py analyze --json
"""

import numpy as np
import pandas as pd

from chalicelib import task, workflow

COLUMNS = ["a", "b", "c"]


@task
def extract(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({c: rng.normal(size=rows) for c in COLUMNS})


@task
def summarize(df: pd.DataFrame, column: str) -> dict:
    return {"column": column, "mean": round(float(df[column].mean()), 4), "std": round(float(df[column].std()), 4)}


@task
def combine(parts: list[dict], df: pd.DataFrame) -> dict:
    print(f"{len(df)} rows, {len(parts)} columns summarized")
    return {"rows": len(df), "columns": {p["column"]: p for p in parts}}


@workflow
def analyze(rows: int = 40_000) -> dict:
    df = extract(rows=rows)
    parts = [summarize(df=df, column=c) for c in COLUMNS]
    return combine(parts=parts, df=df)
