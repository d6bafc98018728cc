"""Control flow the golden tests pin: several outputs, a subworkflow, a conditional with outputs."""

from typing import NamedTuple, Tuple

from chalicelib import conditional, task, workflow


class Parts(NamedTuple):
    head: int
    tail: str


@task
def split(n: int) -> Parts:
    return Parts(n, str(n))


@task
def join(a: int, b: str) -> str:
    return f"{b}{a}"


@workflow
def halves(n: int) -> Tuple[int, str]:
    head, tail = split(n=n)
    return head, join(a=head, b=tail)


@workflow
def control(n: int = 4) -> Tuple[str, int]:
    head, text = halves(n=n)
    picked = (
        conditional("big")
        .if_((head > 3) & (text != "x")).then(join(a=head, b="big"))
        .elif_(head.is_none() | (head == n)).then(text)
        .else_().fail("nothing matched")
    )
    return picked, head
