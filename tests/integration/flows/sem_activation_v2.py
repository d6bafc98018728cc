"""The same launch plan name with a changed trigger (a filter): a new launch plan version."""

from typing_extensions import Annotated

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

Events = Artifact(name="act_events", partition_keys=["source"])


@task
def consume_b(n: int) -> int:
    print(f"consumed from b: {n}")
    return n


@workflow
def on_event_b(n: int) -> int:
    return consume_b(n=n)


on_event_lp = LaunchPlan.create(
    "act_on_event", on_event_b, trigger=OnArtifact(trigger_on=Events.query(source="b"), inputs={"n": Events})
)
