"""A workflow whose inputs are named like `run`'s own options."""

from chalicelib import task, workflow


@task
def echo(stage: str, timeout: int, wait: bool) -> str:
    print(f"stage={stage} timeout={timeout} wait={wait}")
    return f"{stage}:{timeout}:{wait}"


@workflow
def named_like_options(stage: str, timeout: int = 1, wait: bool = False) -> str:
    return echo(stage=stage, timeout=timeout, wait=wait)
