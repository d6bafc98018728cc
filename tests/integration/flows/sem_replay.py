"""A simple trigger to replay."""

from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, LaunchPlan, OnArtifact, task, workflow

Readings = Artifact(name="rp_readings", partition_keys=["sensor"])


@task
def make_reading(sensor: str, value: int) -> Annotated[int, Readings(sensor=Inputs.sensor)]:
    return value


@workflow
def record(sensor: str, value: int) -> int:
    return make_reading(sensor=sensor, value=value)


@task
def alert(value: int) -> int:
    return value


@workflow
def check_reading(value: int) -> int:
    return alert(value=value)


check_lp = LaunchPlan.create("rp_check", check_reading, trigger=OnArtifact(trigger_on=Readings, inputs={"value": Readings}))
