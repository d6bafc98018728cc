"""X → cy_x_to_y → Y; registered alone this is fine."""

from typing_extensions import Annotated

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

X = Artifact(name="cy_x", partition_keys=["stage"])
Y = Artifact(name="cy_y")


@task
def x_to_y(value: int) -> Annotated[int, Y]:
    return value


@workflow
def wf_x_to_y(value: int) -> int:
    return x_to_y(value=value)


x_to_y_lp = LaunchPlan.create("cy_x_to_y", wf_x_to_y, trigger=OnArtifact(trigger_on=X, inputs={"value": X}))
