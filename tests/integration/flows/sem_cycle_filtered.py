"""Raw data in, clean data out, of the same artifact: not a cycle, because the trigger filters stage=raw."""

from typing_extensions import Annotated

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

Data = Artifact(name="cy_data", partition_keys=["stage"])


@task
def clean(value: int) -> Annotated[int, Data(stage="clean")]:
    return abs(value)


@workflow
def clean_wf(value: int) -> int:
    return clean(value=value)


clean_lp = LaunchPlan.create(
    "cy_clean", clean_wf, trigger=OnArtifact(trigger_on=Data.query(stage="raw"), inputs={"value": Data})
)


@task
def ingest_raw(value: int) -> Annotated[int, Data(stage="raw")]:
    return value


@workflow
def ingest(value: int) -> int:
    return ingest_raw(value=value)
