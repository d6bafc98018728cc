"""An artifact that accepts uploads, and a workflow triggered by its versions that reads the uploaded rows.

    python -m chalicelib run tests/integration/flows/store_uploads.py store_noop
    python -m chalicelib upload drop.csv --artifact store_dropped --partition region=emea --time-partition 2026-11-24
"""

import pandas as pd

from chalicelib import Artifact, LaunchPlan, task, workflow
from chalicelib.artifacts import OnArtifact

Dropped = Artifact(name="store_dropped", partition_keys=["region"], time_partitioned=True, accepts_uploads=True)


@task
def nothing() -> int:
    return 0


@workflow
def store_noop() -> int:
    """Registers this file's declarations (run it before uploading)."""
    return nothing()


@task
def count_units(dropped: pd.DataFrame, region: str) -> int:
    units = int(dropped["units"].sum())
    print(f"{region}: {units} units uploaded")
    return units


@workflow
def read_dropped(dropped: pd.DataFrame, region: str) -> int:
    return count_units(dropped=dropped, region=region)


read_on_drop = LaunchPlan.create(
    "store_read_on_drop", read_dropped,
    trigger=OnArtifact(trigger_on=Dropped, inputs={"dropped": Dropped, "region": Dropped.partitions.region}),
)
