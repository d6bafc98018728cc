from chalicelib import task, workflow


@task
def source(n: int) -> int:
    return n


@task
def double(x: int) -> int:
    return 2 * x


@task
def square(x: int) -> int:
    return x * x


@task
def total(a: int, b: int) -> int:
    return a + b


@workflow
def diamond(n: int = 3) -> int:
    s = source(n=n)
    return total(a=double(x=s), b=square(x=s))
