"""`run --stage local`: a workflow whose output artifact triggers a second workflow."""

import enum

from typing_extensions import Annotated

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

Counts = Artifact(name="remote_counts")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@task
def count(n: int) -> Annotated[int, Counts]:
    return n


@workflow
def remote_start(n: int, label: str = "x") -> int:
    return count(n=n)


@task
def double(n: int) -> int:
    print(f"doubled {n}")
    return 2 * n


@workflow
def remote_next(n: int) -> int:
    return double(n=n)


next_lp = LaunchPlan.create("remote_next_lp", remote_next, trigger=OnArtifact(trigger_on=Counts, inputs={"n": Counts}))
