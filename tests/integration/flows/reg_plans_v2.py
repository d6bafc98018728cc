"""Reconciliation, version 2 of reg_plans.py: the launch plan reg_drop is deleted from the file."""

from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifact, task, workflow

Events = Artifact(name="reg_events", partition_keys=["source"])


@task
def make_event(source: str, n: int) -> Annotated[int, Events(source=Inputs.source)]:
    return n


@workflow
def emit(source: str, n: int) -> int:
    return make_event(source=source, n=n)


@task
def consume(n: int) -> int:
    print(f"consumed {n}")
    return n


@workflow
def on_event(n: int) -> int:
    return consume(n=n)


keep_lp = LaunchPlan.create("reg_keep", on_event, trigger=OnArtifact(trigger_on=Events, inputs={"n": Events}))
