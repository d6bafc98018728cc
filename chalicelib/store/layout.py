"""The S3 key layout of the stage bucket: the one place that builds an object key is the one that parses it.

    artifacts/<name>/<k>=<v>/.../[time_partition=<iso>/]<version>.<ext>     a value version (parquet or json)
    artifacts/<name>/<k>=<v>/.../[time_partition=<iso>/]<version>/<file>    a FlyteFile version
    artifacts/<name>/<k>=<v>/.../[time_partition=<iso>/]<version>/...       a FlyteDirectory version (every object)
    runs/<execution name>/<node>/<output>[.<ext> | /...]                    values passed between tasks

Partition segments come in sorted key order, the time partition last (Hive style, so Athena, duckdb or Spark
read a partition folder in place). Names and partition values follow chalicelib.sdk.charset, and a key is read
as a version's only where the version segment has the form make_version gives (chalicelib.store.models), so a
stray key is never taken for a version's data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Literal

from msgspec import Struct

from chalicelib.errors import CascadeError
from chalicelib.sdk.charset import check_name
from chalicelib.sdk.timeparts import TIME_PARTITION, iso
from chalicelib.store.models import MADE_VERSION

ARTIFACTS = "artifacts/"
RUNS = "runs/"
EXTENSIONS = {"parquet": "parquet", "json": "json", "csv": "csv"}
FILE_FORMATS = ("file", "dir")


def _prefix(name: str, partitions: dict[str, str], time_partition: datetime | None) -> str:
    parts = [f"{k}={partitions[k]}" for k in sorted(partitions)]
    if time_partition is not None:
        parts.append(f"{TIME_PARTITION}={iso(time_partition)}")
    return "/".join([ARTIFACTS.rstrip("/"), name, *parts])


def data_key(name: str, partitions: dict[str, str], time_partition: datetime | None, version: str, fmt: str) -> str:
    """The key of a value version's one data object."""
    return f"{_prefix(name, partitions, time_partition)}/{version}.{EXTENSIONS[fmt]}"


def files_prefix(name: str, partitions: dict[str, str], time_partition: datetime | None, version: str) -> str:
    """The prefix (ending in '/') under which a file or directory version's objects live."""
    return f"{_prefix(name, partitions, time_partition)}/{version}/"


class DataKey(Struct, frozen=True):
    """What an object key under artifacts/ says."""

    artifact: str
    version: str
    layout: Literal["object", "files"]  # `<version>.<ext>`, or an object under `<version>/`


def parse_data_key(key: str) -> DataKey | None:
    """The version an object under artifacts/ belongs to, or None for a key outside this layout (which is
    never anyone's data, and never collected)."""
    if not key.startswith(ARTIFACTS):
        return None
    segments = key[len(ARTIFACTS):].split("/")
    if len(segments) < 2:
        return None
    name, rest = segments[0], segments[1:]
    i = 0
    while i < len(rest) and "=" in rest[i]:  # partition segments, then the version
        i += 1
    if i >= len(rest):
        return None
    head, tail = rest[i], rest[i + 1:]
    try:
        check_name("artifact", name)
    except CascadeError:
        return None
    if tail:  # <version>/<file or directory contents>
        if any(s == "" for s in tail) or not MADE_VERSION.fullmatch(head):
            return None
        return DataKey(name, head, "files")
    stem, dot, ext = head.rpartition(".")
    if not dot or ext not in EXTENSIONS.values() or not MADE_VERSION.fullmatch(stem):
        return None
    return DataKey(name, stem, "object")


def holds(uri: str, bucket: str, key: str) -> bool:
    """Does a version whose data is at `uri` own the object `key`? (its one object, or one under its prefix)"""
    target = f"s3://{bucket}/{key}"
    return uri == target or (uri.endswith("/") and target.startswith(uri))


def run_key(execution: str, node: str, output: str, fmt: str | None = None) -> str:
    """Where a task output that is not an artifact is kept: an object (`fmt`), or a prefix for files."""
    base = f"{RUNS}{execution.rsplit(':', 1)[-1]}/{node}/{output}"
    return f"{base}.{EXTENSIONS[fmt]}" if fmt else f"{base}/"


def run_prefix(execution: str) -> str:
    return f"{RUNS}{execution.rsplit(':', 1)[-1]}/"


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


# -- the same layout as an external table sees it (chalicelib/ops/catalog.py) ---------------------------
ATHENA_RESULTS = "athena/"  # query results of the statements registration submits to Athena


def artifact_location(bucket: str, name: str) -> str:
    """The folder holding every version of an artifact: an external table's LOCATION."""
    return f"s3://{bucket}/{ARTIFACTS}{name}/"


def partition_columns(partition_keys: list[str], time_partitioned: bool) -> list[str]:
    """The partition folders' keys, in the order they nest: sorted keys, then the time partition."""
    return sorted(partition_keys) + ([TIME_PARTITION] if time_partitioned else [])


def location_template(bucket: str, name: str, partition_keys: list[str], time_partitioned: bool,
                      column: Callable[[str], str] = str) -> str:
    """A partition's folder with `${column}` placeholders (Athena partition projection's location template);
    `column` gives a key's column name where the catalog spells it otherwise (lowercase)."""
    parts = [f"{k}=${{{column(k)}}}" for k in partition_columns(partition_keys, time_partitioned)]
    return artifact_location(bucket, name) + "/".join(parts) + ("/" if parts else "")


def athena_results(bucket: str) -> str:
    return f"s3://{bucket}/{ATHENA_RESULTS}"
