"""A FlyteFile and a FlyteDirectory as artifacts (partitioned, time-partitioned), found again by queries:
as workflow input defaults, and as trigger input bindings.

    make_files(region, day, rows)     region_file  (FlyteFile,      region × day)   ← a CSV of `rows` rows
                                      region_parts (FlyteDirectory, region)         ← one text file per row
    read_by_default(...)              reads both through `A.query(region="emea")` defaults
    announce(region, day)             files_ready (region × day) ─▶ read_on_ready: reads both through
                                      `A.query(region=Ready.partitions.region, ...)` trigger bindings

    python -m chalicelib run tests/integration/flows/store_files.py make_files --region emea --day 2026-11-24 --rows 4
"""

import csv
import os
from datetime import datetime

from typing_extensions import Annotated

from chalicelib import Artifact, FlyteDirectory, FlyteFile, Inputs, LaunchPlan, current_context, task, workflow
from chalicelib.artifacts import OnArtifact

RegionFile = Artifact(name="store_region_file", partition_keys=["region"], time_partitioned=True)
RegionParts = Artifact(name="store_region_parts", partition_keys=["region"])
Ready = Artifact(name="store_files_ready", partition_keys=["region"], time_partitioned=True)


@task
def write_csv(region: str, rows: int, day: datetime) -> Annotated[
        FlyteFile, RegionFile(region=Inputs.region, time_partition=Inputs.day)]:
    path = os.path.join(current_context().working_directory, f"orders-{region}.csv")
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "amount"])
        out.writerows([i, 10 * i + 1] for i in range(rows))
    return FlyteFile(path)


@task
def write_parts(region: str, rows: int) -> Annotated[FlyteDirectory, RegionParts(region=Inputs.region)]:
    parts = os.path.join(current_context().working_directory, "parts")
    os.makedirs(os.path.join(parts, "nested"))
    for i in range(rows):
        with open(os.path.join(parts, f"part-{i}.txt"), "w") as fh:
            fh.write(f"{region}:{i}\n")
    with open(os.path.join(parts, "nested", "count.txt"), "w") as fh:
        fh.write(f"{rows}\n")
    return FlyteDirectory(parts)


@workflow
def make_files(region: str = "emea", day: datetime = datetime(2026, 11, 24), rows: int = 4) -> FlyteFile:
    write_parts(region=region, rows=rows)
    return write_csv(region=region, rows=rows, day=day)


def _summary(f: FlyteFile, d: FlyteDirectory) -> str:
    """What the consumers report: derived from the file's rows and the directory's files."""
    with open(f.path) as fh:
        amounts = [int(row["amount"]) for row in csv.DictReader(fh)]
    texts = []
    for local, rel in sorted(d.crawl(), key=lambda p: p[1]):
        with open(os.path.join(d.path, rel)) as fh:
            texts.append(f"{rel}={fh.read().strip()}")
    return f"file {os.path.basename(f.path)} rows={len(amounts)} total={sum(amounts)}; dir {' '.join(texts)}"


@task
def summarize(f: FlyteFile, d: FlyteDirectory) -> str:
    summary = _summary(f, d)
    print(f"summary: {summary}")
    return summary


@workflow
def read_by_default(f: FlyteFile = RegionFile.query(region="emea"),
                    d: FlyteDirectory = RegionParts.query(region="emea")) -> str:
    return summarize(f=f, d=d)


@task
def ready(region: str, day: datetime) -> Annotated[str, Ready(region=Inputs.region, time_partition=Inputs.day)]:
    return f"{region} ready for {day.date().isoformat()}"


@workflow
def announce(region: str = "emea", day: datetime = datetime(2026, 11, 24)) -> str:
    return ready(region=region, day=day)


@workflow
def read_on_ready(f: FlyteFile, d: FlyteDirectory) -> str:
    return summarize(f=f, d=d)


read_on_ready_lp = LaunchPlan.create(
    "store_read_on_ready",
    read_on_ready,
    trigger=OnArtifact(
        trigger_on=Ready,
        inputs={
            "f": RegionFile.query(region=Ready.partitions.region, time_partition=Ready.time_partition),
            "d": RegionParts.query(region=Ready.partitions.region),
        },
    ),
)
