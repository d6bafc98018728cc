"""One artifact name declared twice with different partition keys: registration refuses it."""

from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, task, workflow

ByRegion = Artifact(name="reg_dup", partition_keys=["region"])
ByCountry = Artifact(name="reg_dup", partition_keys=["country"])


@task
def make(region: str) -> Annotated[int, ByRegion(region=Inputs.region)]:
    return 1


@workflow
def dup_wf(region: str = "emea") -> int:
    return make(region=region)
