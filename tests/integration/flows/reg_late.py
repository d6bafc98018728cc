"""Registered with a running local server after it started (`register --stage local FILE`), from any folder."""

import pandas as pd

from chalicelib import Artifact, LaunchPlan, OnArtifact, task, workflow

LateIn = Artifact(name="reg_late_in", partition_keys=["region"], accepts_uploads=True)


@task
def count_rows(table: pd.DataFrame) -> int:
    print(f"late rows: {len(table)}")
    return len(table)


@workflow
def late_wf(table: pd.DataFrame) -> int:
    return count_rows(table=table)


late_lp = LaunchPlan.create("reg_late_lp", late_wf, trigger=OnArtifact(trigger_on=LateIn, inputs={"table": LateIn}))
