"""Launch plans switched on and off around events."""

from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifact, task, workflow

Events = Artifact(name="act_events", partition_keys=["source"])


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


on_event_lp = LaunchPlan.create("act_on_event", on_event, trigger=OnArtifact(trigger_on=Events, inputs={"n": Events}))
dormant_lp = LaunchPlan.create("act_dormant", on_event, trigger=OnArtifact(trigger_on=Events, inputs={"n": Events}),
                               active=False)
