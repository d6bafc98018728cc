"""The same launch plan name, now listening to another artifact."""

from chalicelib import Artifact, LaunchPlan, OnArtifact

from sem_activation import on_event

Other = Artifact(name="act_other")

on_event_lp = LaunchPlan.create("act_on_event", on_event, trigger=OnArtifact(trigger_on=Other, inputs={"n": Other}))
