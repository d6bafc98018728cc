"""Control flow: several outputs, subworkflows nested two deep, conditionals with outputs and a failing case."""

from typing import Annotated, NamedTuple, Tuple

from chalicelib import Artifact, map_task, task, workflow
from chalicelib.sdk.control import conditional

Summary = Artifact(name="ctl_summary")


class Stats(NamedTuple):
    total: int
    label: str


@task
def split(n: int) -> Tuple[int, str]:
    return n * 2, f"n={n}"


@task
def stats(n: int) -> Stats:
    return Stats(n + 1, "ok")


@task
def annotated(n: int) -> Tuple[int, Annotated[dict, Summary]]:
    return n, {"n": n}


@task
def show(a: int, b: str) -> str:
    return f"{b}:{a}"


@workflow
def several(n: int = 2) -> Tuple[str, int, dict]:
    doubled, text = split(n=n)
    s = stats(n=doubled)
    count, summary = annotated(n=s.total)
    return show(a=s.total, b=text), count, summary


@workflow
def named(n: int = 3) -> Stats:
    s = stats(n=n)
    return s.total, s.label


@workflow
def inner(x: int, label: str = "in") -> int:
    return stats(n=x).total


@workflow
def middle(x: int) -> Tuple[int, str]:
    a = inner(x=x)
    return inner(x=a, label="again"), show(a=a, b="mid")


@workflow
def outer(n: int = 1) -> Tuple[int, str]:
    total, text = middle(x=n)
    return stats(n=total).total, text


@task
def grade(score: int) -> str:
    return "pass" if score >= 50 else "fail"


@task
def bonus(score: int) -> int:
    return score + 10


@workflow
def sized(n: int = 5) -> str:
    return (
        conditional("size")
        .if_((n > 3) & (n < 10)).then(show(a=n, b="mid"))
        .elif_((n >= 10) | n.is_none()).then(show(a=bonus(score=n), b="big"))
        .else_().fail("n must be above 3")
    )


@workflow
def on_output(score: int = 40) -> Tuple[int, str]:
    boosted = bonus(score=score)
    total, text = (
        conditional("boosted")
        .if_(boosted >= 50).then(split(n=boosted))
        .else_().then(middle(x=score))
    )
    return total, grade(score=total)


@task
def is_even(n: int) -> bool:
    return n % 2 == 0


@workflow
def on_bool(n: int = 4) -> str:
    even = is_even(n=n)
    first = conditional("even").if_(even.is_true()).then(show(a=n, b="even")).else_().then(show(a=n, b="odd"))
    return conditional("again").if_(first != "even:4").then(first).else_().then(show(a=bonus(score=n), b=first))


Published = Artifact(name="ctl_published")


@workflow
def publishes_second(n: int = 7) -> Tuple[int, Annotated[dict, Published]]:
    count, summary = annotated(n=n)
    return count, summary


# -- map_task ---------------------------------------------------------------------------------------------
import functools
from typing import List, Optional

Squares = Artifact(name="ctl_square")


@task
def numbers(n: int) -> List[int]:
    return list(range(n))


@task
def scale(x: int, factor: int = 1) -> int:
    return x * factor


@task
def fragile(x: int) -> int:
    if x % 3 == 2:
        raise ValueError(f"item {x} breaks")
    return x * 10


@task
def square_version(x: int) -> Annotated[int, Squares]:
    return x * x


@task
def total(xs: List[Optional[int]]) -> int:
    return sum(x for x in xs if x is not None)


@workflow
def mapped(n: int = 5, factor: int = 3) -> Tuple[List[int], int]:
    xs = numbers(n=n)
    scaled = map_task(scale, concurrency=2)(x=xs, factor=factor)
    fixed = map_task(functools.partial(scale, factor=2))(x=scaled)
    return fixed, total(xs=fixed)


@workflow
def tolerant(n: int = 6, ratio: float = 0.5) -> List[Optional[int]]:
    return map_task(fragile, min_success_ratio=0.5)(x=numbers(n=n))


@workflow
def strict(n: int = 6) -> List[int]:
    return map_task(fragile)(x=numbers(n=n))


@workflow
def too_fragile(n: int = 6) -> List[Optional[int]]:
    return map_task(fragile, min_success_ratio=0.9)(x=numbers(n=n))


@workflow
def versions(xs: List[int] = [1, 2, 3]) -> List[int]:
    return map_task(square_version)(x=xs)


@workflow
def empty() -> int:
    return total(xs=map_task(scale)(x=numbers(n=0)))


@task
def four_kibibytes(x: int) -> str:
    return f"{x:04d}" * 1024


@task
def lengths(texts: List[str]) -> dict:
    return {"items": len(texts), "chars": sum(len(t) for t in texts), "first": texts[0][:8], "last": texts[-1][:8]}


@workflow
def many(n: int = 30) -> dict:
    """Items of 4 KiB each: 80 of them are 320 KiB of results, more than a state may hold (256 KiB)."""
    return lengths(texts=map_task(four_kibibytes, concurrency=20)(x=numbers(n=n)))


# -- launch plans called in a workflow --------------------------------------------------------------------
from chalicelib import LaunchPlan


@workflow
def child(x: int, label: str = "child", factor: int = 1) -> Tuple[int, str]:
    return scale(x=x, factor=factor), show(a=x, b=label)


child_lp = LaunchPlan.get_or_create(child, name="child_lp", fixed_inputs={"factor": 10}, default_inputs={"label": "lp"})


@workflow
def launches(n: int = 4) -> Tuple[int, str]:
    value, text = child_lp(x=bonus(score=n))
    return stats(n=value).total, text


# -- gate nodes -------------------------------------------------------------------------------------------
from datetime import timedelta

from chalicelib import approve, sleep, wait_for_input


@workflow
def gated(n: int) -> Tuple[int, str]:
    first = bonus(score=n)
    pause = sleep(timedelta(seconds=1))
    first >> pause
    threshold = wait_for_input("threshold", timeout=timedelta(minutes=10), expected_type=int)
    pause >> threshold
    report = show(a=threshold, b="limit")
    approved = approve(report, "publish", timeout=timedelta(minutes=10))
    return scale(x=threshold, factor=first), approved


# -- @dynamic ---------------------------------------------------------------------------------------------
from chalicelib import dynamic


@dynamic
def fan(n: int, factor: int) -> List[int]:
    """Calls `scale` once per item: the graph's shape depends on n's value."""
    return [scale(x=i, factor=factor) for i in range(n)] if n % 2 == 0 else [show_len(text=show(a=n, b="odd"))]


@task
def show_len(text: str) -> int:
    return len(text)


@workflow
def dynamic_fan(n: int = 3, factor: int = 10) -> Tuple[List[int], int]:
    out = fan(n=bonus(score=n), factor=factor)
    return out, total(xs=out)
