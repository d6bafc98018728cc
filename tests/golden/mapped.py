"""A mapped task the golden tests pin: a list from a task, a constant input, a partial, min_success_ratio."""

import functools
from typing import List, Optional

from chalicelib import map_task, task, workflow


@task
def numbers(n: int) -> List[int]:
    return list(range(n))


@task
def scale(x: int, factor: int = 1) -> int:
    return x * factor


@task
def total(xs: List[Optional[int]]) -> int:
    return sum(x for x in xs if x is not None)


@workflow
def mapped(n: int = 3) -> int:
    doubled = map_task(functools.partial(scale, factor=2), concurrency=4, min_success_ratio=0.5)(x=numbers(n=n))
    return total(xs=doubled)
