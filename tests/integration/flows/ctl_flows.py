"""Control flow: several outputs, subworkflows nested two deep, conditionals with outputs and a failing case."""

from typing import Annotated, NamedTuple, Tuple

from chalicelib import Artifact, task, workflow
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
