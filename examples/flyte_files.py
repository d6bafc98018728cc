"""Files and directories between tasks, by reference through S3, and a file as an artifact.

    python -m chalicelib run examples/flyte_files.py files_wf --rows 4
"""

import csv
import os

from typing_extensions import Annotated

from chalicelib import Artifact, FlyteDirectory, FlyteFile, current_context, task, workflow

Export = Artifact(name="orders_export")  # a FlyteFile artifact: the version's data object is the file itself


@task
def write_csv(rows: int) -> FlyteFile:
    workdir = current_context().working_directory
    print(f"workdir {workdir}")
    path = os.path.join(workdir, "orders.csv")
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "amount"])
        out.writerows([i, 10 * i] for i in range(rows))
    return FlyteFile(path)


@task
def write_parts(rows: int) -> FlyteDirectory:
    parts = os.path.join(current_context().working_directory, "parts")
    os.makedirs(os.path.join(parts, "nested"))
    for i in range(2):
        with open(os.path.join(parts, f"part-{i}.txt"), "w") as fh:
            fh.write(f"part {i} of {rows}\n")
    with open(os.path.join(parts, "nested", "extra.txt"), "w") as fh:
        fh.write("extra\n")
    return FlyteDirectory(parts)


@task
def total(orders: FlyteFile) -> int:
    print(f"remote {orders.remote_source}")
    print(f"downloaded before .path: {orders.downloaded}")
    local = orders.path
    print(f"downloaded after .path: {orders.downloaded}, inside workdir: "
          f"{local.startswith(current_context().working_directory)}")
    with open(local) as fh:
        return sum(int(row["amount"]) for row in csv.DictReader(fh))


@task
def list_parts(parts: FlyteDirectory) -> list:
    names = sorted(rel for _, rel in parts.crawl())
    print(f"parts {names}")
    return names


@task
def export(orders: FlyteFile, amount: int) -> Annotated[FlyteFile, Export]:
    print(f"exporting total {amount}")
    return orders  # already in S3: the artifact's object is a server-side copy


@workflow
def files_wf(rows: int = 3) -> int:
    orders = write_csv(rows=rows)
    amount = total(orders=orders)
    list_parts(parts=write_parts(rows=rows))
    export(orders=orders, amount=amount)
    return amount


@workflow
def total_wf(orders: FlyteFile) -> int:
    """Started by hand with a file: `--orders s3://bucket/key.csv`, or a local path (the local cloud reads it)."""
    return total(orders=orders)
