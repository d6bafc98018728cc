"""A diamond whose middle tasks run in parallel, a ~1 MB DataFrame passed by reference, and a failure."""

import time

import numpy as np
import pandas as pd

from chalicelib import task, workflow


@task
def split(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"a": rng.random(rows), "b": rng.random(rows)})


@task
def left(df: pd.DataFrame) -> dict:
    start = time.time()
    time.sleep(0.5)
    return {"start": start, "end": time.time(), "sum": float(df["a"].sum())}


@task
def right(df: pd.DataFrame) -> dict:
    start = time.time()
    time.sleep(0.5)
    return {"start": start, "end": time.time(), "sum": float(df["b"].sum())}


@task
def join(l: dict, r: dict, df: pd.DataFrame) -> dict:
    return {"left": l, "right": r, "rows": len(df), "bytes": int(df.memory_usage(index=False).sum()),
            "check": round(float(df["a"].sum()) - l["sum"], 6)}


@workflow
def diamond(rows: int = 65_000) -> dict:
    df = split(rows=rows)
    return join(l=left(df=df), r=right(df=df), df=df)


@task
def prepare(x: int) -> int:
    return x


@task
def explode(x: int) -> int:
    if x < 0:
        raise ValueError(f"bad input x={x}: must be positive")
    return x


@task
def fine(x: int) -> int:
    return x


@workflow
def failing(x: int = -1) -> int:
    p = prepare(x=x)
    fine(x=p)
    return explode(x=p)
