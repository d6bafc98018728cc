"""Launch plans as flytekit writes them: get_or_create (both argument styles), default and fixed inputs,
a trigger whose time-partition input arrives as a datetime, and a static trigger input evaluated once,
when this file is imported (as in Flyte).

    python -m chalicelib run examples/flyte_launch_plans.py ingest --site north --at 2026-11-24T17:45:00Z
    python -m chalicelib run examples/flyte_launch_plans.py nightly_summary --hour 2026-11-24T00:00:00Z
"""

from datetime import datetime, timezone

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Granularity, Inputs, LaunchPlan, OnArtifact, task, workflow

Readings = Artifact(name="sensor_readings", partition_keys=["site"], time_partitioned=True,
                    time_partition_granularity=Granularity.HOUR)

# Evaluated here, at definition, exactly like a static trigger input in Flyte: every triggered run gets this
# same value (and re-registering the file makes a new launch plan version, since the value changed).
DEFINED_AT = datetime.now(timezone.utc)


@task
def measure(site: str, at: datetime) -> Annotated[pd.DataFrame, Readings(site=Inputs.site, time_partition=Inputs.at)]:
    return pd.DataFrame({"site": [site] * 4, "value": [0.2, 0.4, 0.6, 0.8]})


@workflow
def ingest(site: str, at: datetime) -> pd.DataFrame:
    return measure(site=site, at=at)


@task
def report(hour: datetime, site: str, threshold: float, label: str, defined_at: datetime) -> str:
    print(f"hour {type(hour).__name__} {hour.isoformat()} tz={hour.tzinfo}")
    print(f"site {site} threshold {threshold} label {label}")
    print(f"defined_at {type(defined_at).__name__} {defined_at.isoformat()}")
    return f"{label}:{site}:{threshold}"


@workflow
def summarize(hour: datetime, site: str, threshold: float, label: str = "unlabelled",
              defined_at: datetime = datetime(2000, 1, 1, tzinfo=timezone.utc)) -> str:
    return report(hour=hour, site=site, threshold=threshold, label=label, defined_at=defined_at)


# Keyword style, with a trigger: the triggering version's time partition arrives as a UTC datetime.
on_readings = LaunchPlan.get_or_create(
    name="summary_on_readings",
    workflow=summarize,
    trigger=OnArtifact(
        trigger_on=Readings,
        inputs={"hour": Readings.time_partition, "site": Readings.partitions.site, "defined_at": DEFINED_AT},
    ),
    default_inputs={"threshold": 0.5},
    fixed_inputs={"label": "triggered"},
)

# flytekit's positional style (workflow first, then the name), started by hand with `run FILE nightly_summary`.
nightly = LaunchPlan.get_or_create(summarize, "nightly_summary",
                                   default_inputs={"site": "south", "threshold": 0.9},
                                   fixed_inputs={"label": "nightly"})

# The workflow's default launch plan, named after it.
default_lp = LaunchPlan.get_or_create(workflow=ingest)
