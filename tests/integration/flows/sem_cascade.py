"""A three-level cascade: start → level1 → wf_b → level2 → wf_c → level3 → wf_d."""

from typing_extensions import Annotated

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

Level1 = Artifact(name="c_level1")
Level2 = Artifact(name="c_level2")
Level3 = Artifact(name="c_level3")


@task
def make_level1(n: int) -> Annotated[int, Level1]:
    return n


@workflow
def start(n: int = 1) -> int:
    return make_level1(n=n)


@task
def to_level2(value: int) -> Annotated[int, Level2]:
    return value + 1


@workflow
def wf_b(value: int) -> int:
    return to_level2(value=value)


@task
def to_level3(value: int) -> Annotated[int, Level3]:
    return value * 10


@workflow
def wf_c(value: int) -> int:
    return to_level3(value=value)


@task
def final(value: int) -> int:
    print(f"level 3 delivered {value}")
    return value


@workflow
def wf_d(value: int) -> int:
    return final(value=value)


lp_b = LaunchPlan.create("c_lp_b", wf_b, trigger=OnArtifact(trigger_on=Level1, inputs={"value": Level1}))
lp_c = LaunchPlan.create("c_lp_c", wf_c, trigger=OnArtifact(trigger_on=Level2, inputs={"value": Level2}))
lp_d = LaunchPlan.create("c_lp_d", wf_d, trigger=OnArtifact(trigger_on=Level3, inputs={"value": Level3}))
