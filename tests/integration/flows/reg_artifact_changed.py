"""Declares reg_events with another partition key than reg_plans.py does (a conflict in one stage)."""

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

Events = Artifact(name="reg_events", partition_keys=["kind"])


@task
def noop(n: int) -> int:
    return n


@workflow
def on_changed(n: int) -> int:
    return noop(n=n)


changed_lp = LaunchPlan.create("reg_changed", on_changed, trigger=OnArtifact(trigger_on=Events, inputs={"n": Events}))
