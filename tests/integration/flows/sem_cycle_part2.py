"""Y → cy_y_to_x → X(stage="raw"): closes a cycle with part 1."""

from typing_extensions import Annotated

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

X = Artifact(name="cy_x", partition_keys=["stage"])
Y = Artifact(name="cy_y")


@task
def y_to_x(value: int) -> Annotated[int, X(stage="raw")]:
    return value


@workflow
def wf_y_to_x(value: int) -> int:
    return y_to_x(value=value)


y_to_x_lp = LaunchPlan.create("cy_y_to_x", wf_y_to_x, trigger=OnArtifact(trigger_on=Y, inputs={"value": Y}))
