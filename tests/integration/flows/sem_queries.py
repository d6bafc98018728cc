"""Query defaults, partial partition sets, no-match errors and granularity."""

from datetime import datetime, timedelta

from typing_extensions import Annotated

from chalicelib import Artifact, Granularity, Inputs, LaunchPlan, OnArtifact, task, workflow

Targets = Artifact(name="q_targets", partition_keys=["region", "channel"])
Monthly = Artifact(name="q_monthly", partition_keys=["region"], time_partitioned=True,
                   time_partition_granularity=Granularity.MONTH)
Hourly = Artifact(name="q_hourly", time_partition_granularity=Granularity.HOUR)


@task
def read(value: int) -> int:
    print(f"read {value}")
    return value


@workflow
def latest_emea(value: int = Targets.query(region="emea")) -> int:
    return read(value=value)


@workflow
def latest_web(value: int = Targets.query(partitions={"channel": "web"})) -> int:
    return read(value=value)


@workflow
def latest_any(value: int = Targets.query()) -> int:
    return read(value=value)


@workflow
def latest_apac(value: int = Targets.query(region="apac")) -> int:
    return read(value=value)


@task
def make_month(region: str, when: datetime, value: int) -> Annotated[
        int, Monthly(region=Inputs.region, time_partition=Inputs.when)]:
    return value


@workflow
def produce_month(region: str, when: datetime, value: int) -> int:
    return make_month(region=region, when=when, value=value)


@task
def compare(this_month: int, last_month: int, month: datetime) -> dict:
    assert month.utcoffset() == timedelta(0)
    return {"this": this_month, "last": last_month, "month": month.isoformat()}


@workflow
def month_over_month(this_month: int, last_month: int, month: datetime) -> dict:
    return compare(this_month=this_month, last_month=last_month, month=month)


month_lp = LaunchPlan.create(
    "q_month_over_month",
    month_over_month,
    trigger=OnArtifact(
        trigger_on=Monthly.query(region="live"),
        inputs={
            "this_month": Monthly,
            # one day before the 1st is in the previous month: normalized to MONTH, that month
            "last_month": Monthly.query(time_partition=Monthly.time_partition - timedelta(days=1)),
            "month": Monthly.time_partition,
        },
    ),
)


@task
def make_hour(when: datetime) -> Annotated[str, Hourly(time_partition=Inputs.when)]:
    return when.isoformat()


@workflow
def produce_hour(when: datetime) -> str:
    return make_hour(when=when)
