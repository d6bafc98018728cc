from typing_extensions import Annotated

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

Loop = Artifact(name="cy_loop")


@task
def again(value: int) -> Annotated[int, Loop]:
    return value + 1


@workflow
def loop_wf(value: int) -> int:
    return again(value=value)


loop_lp = LaunchPlan.create("cy_loop_lp", loop_wf, trigger=OnArtifact(trigger_on=Loop, inputs={"value": Loop}))
