"""What the benchmarks register: a downstream workflow started by new versions of `bench_events`, and as many
launch plans listening elsewhere as a figure needs."""

from __future__ import annotations

from typing import Any

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow
from chalicelib.runtime.loader import Definitions

Events = Artifact("bench_events", partition_keys=["key1"])
PARTITIONS = {"key1": "value1"}
MATCHING = "bench_downstream_lp"


@task
def touch() -> None:
    """Does nothing: the figures are about starting runs, not about running them."""


@workflow
def downstream_wf() -> None:
    touch()


def definitions(launch_plans: int, elsewhere: str = "artifacts") -> Definitions:
    """`launch_plans` launch plans on `downstream_wf`, exactly one of which a version of Events in PARTITIONS starts.

    The others listen to other artifacts (`elsewhere="artifacts"`), or to Events with a partition filter that
    the version does not pass (`elsewhere="partitions"`)."""
    plans = {MATCHING: LaunchPlan(MATCHING, downstream_wf, trigger=OnArtifact(trigger_on=Events.query(**PARTITIONS)))}
    for i in range(1, launch_plans):
        if elsewhere == "artifacts":
            trigger = OnArtifact(trigger_on=Artifact(f"bench_other_{i:05d}"))
        else:
            trigger = OnArtifact(trigger_on=Events.query(key1=f"other_{i:05d}"))
        name = f"bench_lp_{i:05d}"
        plans[name] = LaunchPlan(name, downstream_wf, trigger=trigger)
    return Definitions(workflows={downstream_wf.name: downstream_wf}, launch_plans=plans)


def register(cloud: Any, defs: Definitions) -> dict[str, str]:
    """Register through the real registrar; returns workflow name → state machine ARN."""
    from chalicelib import aws
    from chalicelib.register import Registrar
    from chalicelib.store.registry import Registry

    settings = cloud.settings
    registry = Registry(settings, aws.client("dynamodb", settings.region))
    registrar = Registrar(settings, aws.client("stepfunctions", settings.region), registry, cloud.states_role_arn)
    return registrar.register(defs).state_machines
