"""One artifact, several launch plans: unfiltered, filtered by partition, paused; and a second artifact.

Used by the reliability tests and benchmarks/faults.py: every new `readings` version starts `every_reading`,
a `site=north` version also starts `north_only`, `paused` never starts, and `alerts` versions start `on_alert`,
whose task reads the triggering version.
"""

from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifact, task, workflow

Readings = Artifact(name="readings", partition_keys=["site"])
Alerts = Artifact(name="alerts")


@task
def record(site: str, value: int) -> Annotated[dict, Readings(site=Inputs.site)]:
    return {"site": site, "value": value}


@workflow
def ingest(site: str = "north", value: int = 1) -> dict:
    return record(site=site, value=value)


@task
def summarize(site: str) -> None:
    print(f"summary for {site}")


@workflow
def summary(site: str = "any") -> None:
    summarize(site=site)


every_reading = LaunchPlan.create(
    "every_reading", summary, trigger=OnArtifact(trigger_on=Readings, inputs={"site": Readings.partitions.site})
)
north_only = LaunchPlan.create(
    "north_only", summary,
    trigger=OnArtifact(trigger_on=Readings.query(site="north"), inputs={"site": Readings.partitions.site}),
)
paused = LaunchPlan.create("paused", summary, trigger=OnArtifact(trigger_on=Readings), active=False)
@task
def inspect(alert: dict) -> None:
    print(f"alert: {alert}")


@workflow
def triage(alert: dict = None) -> None:
    inspect(alert=alert)


on_alert = LaunchPlan.create("on_alert", triage, trigger=OnArtifact(trigger_on=Alerts, inputs={"alert": Alerts}))
