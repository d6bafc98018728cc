"""What the benchmarks register: a downstream workflow started by new versions of `bench_events`, and as many
launch plans listening elsewhere as a figure needs."""

from __future__ import annotations

import json
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


def definitions(launch_plans: int, elsewhere: str = "artifacts", matching: bool = True,
                active: bool = True) -> Definitions:
    """`launch_plans` launch plans on `downstream_wf`, exactly one of which a version of Events in PARTITIONS starts
    (none with `matching=False`; registered inactive with `active=False`).

    The others listen to other artifacts (`elsewhere="artifacts"`), or to Events with a partition filter that
    the version does not pass (`elsewhere="partitions"`)."""
    plans = {}
    if matching:
        plans[MATCHING] = LaunchPlan(MATCHING, downstream_wf, trigger=OnArtifact(trigger_on=Events.query(**PARTITIONS)),
                                     active=active)
    for i in range(1, launch_plans + (0 if matching else 1)):
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
    from chalicelib.ops.register import Registrar
    from chalicelib.store.registry import Registry

    settings = cloud.settings
    registry = Registry(settings, aws.client("dynamodb", settings.region))
    registrar = Registrar(settings, aws.client("stepfunctions", settings.region), registry, cloud.states_role_arn)
    return registrar.register(defs).state_machines


def register_pass_plan(cloud: Any) -> str:
    """A subscription of Events in PARTITIONS to a one-state Pass machine: runs that start and end at once, so
    batches of many records do not leave a thousand task runs competing with the figures. Returns its ARN."""
    from chalicelib import aws
    from chalicelib.store.models import Subscription
    from chalicelib.store.registry import Registry

    settings = cloud.settings
    sfn = aws.client("stepfunctions", settings.region)
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(name=f"{settings.prefix}bench-pass", definition=json.dumps(definition),
                                   roleArn=cloud.states_role_arn)["stateMachineArn"]
    Registry(settings, aws.client("dynamodb", settings.region)).put_subscription(Subscription(
        artifact=Events.name, launch_plan="bench_pass_lp", lp_version="1", workflow="bench.pass",
        state_machine_arn=arn, filter=dict(PARTITIONS),
    ))
    return arn


Fanout = Artifact("bench_fanout")
Load = Artifact("bench_load", partition_keys=["region"])


def register_fanout(cloud: Any, launch_plans: int, artifact: Artifact = Fanout) -> str:
    """`launch_plans` subscriptions of every version of `artifact` (any partition), all on one one-state Pass
    machine (runs that end at once). Returns the machine's ARN."""
    from chalicelib import aws
    from chalicelib.store.models import Subscription
    from chalicelib.store.registry import Registry

    settings = cloud.settings
    sfn = aws.client("stepfunctions", settings.region)
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(name=f"{settings.prefix}{artifact.name}", definition=json.dumps(definition),
                                   roleArn=cloud.states_role_arn)["stateMachineArn"]
    registry = Registry(settings, aws.client("dynamodb", settings.region))
    for i in range(launch_plans):
        registry.put_subscription(Subscription(
            artifact=artifact.name, launch_plan=f"{artifact.name}_lp_{i:03d}", lp_version="1", workflow="bench.pass",
            state_machine_arn=arn,
        ))
    return arn
