"""Another file with a launch plan on reg_events, declared the same way: reconciling reg_plans leaves it alone."""

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

Events = Artifact(name="reg_events", partition_keys=["source"])  # the same declaration: fine


@task
def note(n: int) -> int:
    print(f"noted {n}")
    return n


@workflow
def on_event_other(n: int) -> int:
    return note(n=n)


other_lp = LaunchPlan.create("reg_other", on_event_other, trigger=OnArtifact(trigger_on=Events, inputs={"n": Events}))
