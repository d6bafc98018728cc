"""What `benchmarks.map_scale` runs: a map_task over N items of 1 KiB each, gathered by one task."""

from __future__ import annotations

from typing import List, Optional

from chalicelib import map_task, task, workflow


@task
def item_list(n: int) -> List[int]:
    return list(range(n))


@task
def kilobyte(x: int) -> str:
    return f"{x:08d}" * 128  # 1 KiB: 1,000 items are 1,000 KiB of results, four times a state's 256 KiB


@task
def count(texts: List[Optional[str]]) -> int:
    return sum(1 for t in texts if t)


@workflow
def map_wf(n: int = 10) -> int:
    return count(texts=map_task(kilobyte, concurrency=40)(x=item_list(n=n)))
