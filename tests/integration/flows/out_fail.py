"""A workflow whose second task fails: `prepare` prints and succeeds, `explode` prints and raises ValueError("boom")."""

from chalicelib import task, workflow


@task
def prepare(n: int) -> int:
    print("preparing", n)
    return n + 1


@task
def explode(n: int) -> int:
    print("about to fail with", n)
    raise ValueError("boom")


@workflow
def fail_wf(n: int = 1) -> int:
    return explode(n=prepare(n=n))
