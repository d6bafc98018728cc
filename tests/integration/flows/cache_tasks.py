"""Cached tasks: flytekit's deprecated keywords, Cache objects, ignored inputs, HashMethod, serialize, an
artifact output, per-node overrides and resource-sized tasks. Each task prints when it really runs."""

import time
from typing import Annotated

import pandas as pd

from chalicelib import Artifact, Cache, HashMethod, Resources, task, workflow

Doubled = Artifact(name="cache_doubled")


@task(cache=True, cache_version="1")
def double(x: int) -> int:
    print(f"computing double({x})")
    return 2 * x


@task(cache=Cache(version="1", ignored_inputs=("note",)))
def bump(x: int, note: str) -> int:
    print(f"computing bump({x}, {note})")
    return x + 1


@task(cache=True, cache_version="1")
def publish_doubled(x: int) -> Annotated[int, Doubled]:
    print(f"computing publish_doubled({x})")
    return 2 * x


@task
def frame(n: int, salt: str) -> pd.DataFrame:
    return pd.DataFrame({"v": list(range(n)), "salt": [salt] * n})


def rows_only(df: pd.DataFrame) -> str:
    return f"rows={len(df)}"


@task(cache=True, cache_version="1")
def count_rows(df: Annotated[pd.DataFrame, HashMethod(rows_only)]) -> int:
    print(f"computing count_rows({len(df)})")
    return len(df)


@task(cache=True, cache_version="1")
def total(df: pd.DataFrame) -> int:
    print(f"computing total({len(df)})")
    return int(df["v"].sum())


@task(cache=Cache(version="1", serialize=True))
def slow_square(x: int) -> int:
    print(f"computing slow_square({x})")
    time.sleep(1.5)
    return x * x


@task(cache=True)
def body_versioned(x: int) -> int:
    print(f"computing body_versioned({x})")
    return x - 1


@task(requests=Resources(mem="4Gi"), cache=True, cache_version="1")
def big(x: int) -> int:
    print(f"computing big({x})")
    return x + 100


@workflow
def plain_wf(x: int, note: str) -> int:
    return bump(x=double(x=x), note=note)


@workflow
def bumped_version_wf(x: int) -> int:
    return double(x=x).with_overrides(cache=Cache(version="2"))


@workflow
def publish_wf(x: int) -> int:
    return publish_doubled(x=x)


@workflow
def frame_wf(n: int, salt: str) -> int:
    df = frame(n=n, salt=salt)
    count_rows(df=df)
    return total(df=df)


@workflow
def serialized_wf(x: int) -> int:
    return slow_square(x=x)


@workflow
def body_wf(x: int) -> int:
    return body_versioned(x=x)


@workflow
def sized_wf(x: int) -> int:
    small = big(x=x).with_overrides(requests=Resources(mem="1Gi"), name="small")
    return big(x=small)


def by_sum(df: pd.DataFrame) -> str:
    return f"sum={int(df['v'].sum())}"


@task
def hashed_frame(n: int, salt: str) -> Annotated[pd.DataFrame, HashMethod(by_sum)]:
    return pd.DataFrame({"v": list(range(n)), "salt": [salt] * n})


@task(cache=True, cache_version="1")
def first_value(df: pd.DataFrame) -> int:
    print(f"computing first_value({len(df)})")
    return int(df["v"].iloc[0])


@workflow
def hashed_output_wf(n: int, salt: str) -> int:
    return first_value(df=hashed_frame(n=n, salt=salt))
