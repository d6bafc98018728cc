"""Collecting half-made versions: data objects under artifacts/ that no metadata item points to.

A version becomes visible only when its metadata item is written, after its data (chalicelib.store.artifacts).
A producer that fails between the two (and is not retried to completion) leaves objects behind that no query
or trigger ever sees. `find_orphans` lists such objects older than a grace period (so a producer still
writing is never touched); `remove` deletes them, every S3 version of each, after checking once more that
no metadata item appeared meanwhile.

Which version an object belongs to is read with chalicelib.store.layout, the codec that built its key. A
key the codec cannot read is nobody's data as far as the store knows: it is reported as unknown and never
deleted. An object is live when its version's metadata item points to it: its one object, or any object
under a file or directory version's prefix.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from pydantic import BaseModel

from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.layout import ARTIFACTS, holds, parse_data_key

DEFAULT_GRACE = timedelta(hours=24)


class Orphan(BaseModel):
    key: str
    artifact: str
    version: str
    size: int
    last_modified: datetime
    reason: str


class GcReport(BaseModel):
    bucket: str
    scanned: int = 0
    live: int = 0  # objects a metadata item points to
    too_young: int = 0  # objects within the grace period, not examined
    unknown: list[str] = []  # keys under artifacts/ that the layout cannot read: never deleted
    orphans: list[Orphan] = []
    deleted: list[str] = []
    dry_run: bool = True


def find_orphans(store: ArtifactStore, grace: timedelta = DEFAULT_GRACE, now: datetime | None = None,
                 on_page: Callable[[int], None] | None = None) -> GcReport:
    """Every object under artifacts/ older than `grace` whose version has no metadata item pointing at it."""
    now = now or datetime.now(timezone.utc)
    bucket = store.settings.bucket
    report = GcReport(bucket=bucket)
    candidates: list[tuple[dict[str, Any], str, str]] = []
    for page in store.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ARTIFACTS):
        for obj in page.get("Contents", []):
            report.scanned += 1
            parsed = parse_data_key(obj["Key"])
            if parsed is None:
                report.unknown.append(obj["Key"])
            elif now - obj["LastModified"] < grace:
                report.too_young += 1
            else:
                candidates.append((obj, parsed.artifact, parsed.version))
        if on_page:
            on_page(report.scanned)
    found = store.get_many([(a, v) for _, a, v in candidates])
    for obj, artifact, version in candidates:
        item = found.get((artifact, version))
        if item is not None and holds(item.uri, bucket, obj["Key"]):
            report.live += 1
            continue
        report.orphans.append(Orphan(
            key=obj["Key"], artifact=artifact, version=version, size=obj.get("Size", 0),
            last_modified=obj["LastModified"],
            reason="no metadata item" if item is None else f"the version's metadata item points to {item.uri}",
        ))
    return report


def remove(store: ArtifactStore, report: GcReport) -> GcReport:
    """Delete the orphans of `report` (every stored S3 version of each key), re-checking each first."""
    s3 = store.s3
    still = store.get_many([(o.artifact, o.version) for o in report.orphans])
    for orphan in report.orphans:
        item = still.get((orphan.artifact, orphan.version))
        if item is not None and holds(item.uri, report.bucket, orphan.key):
            continue  # its metadata item appeared since the scan: no longer an orphan
        targets = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=report.bucket, Prefix=orphan.key):
            targets += [{"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in page.get("Versions", []) + page.get("DeleteMarkers", []) if v["Key"] == orphan.key]
        for start in range(0, len(targets), 1000):
            s3.delete_objects(Bucket=report.bucket, Delete={"Objects": targets[start:start + 1000], "Quiet": True})
        if not targets:
            s3.delete_object(Bucket=report.bucket, Key=orphan.key)
        report.deleted.append(orphan.key)
    report.dry_run = False
    return report
