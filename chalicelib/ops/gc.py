"""Garbage collection of half-made artifacts: data objects that no metadata item points to.

A version becomes visible only when its metadata item is written, after its data object. A task that fails
between the two writes (and is not retried to completion) leaves the object behind, invisible to every
query and trigger. `find_orphans` lists such objects under `artifacts/` that are older than a grace period
(so a task still writing is never touched); `remove` deletes them, every S3 version of each, after
checking once more that no metadata item appeared meanwhile.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from chalicelib.errors import CascadeError
from chalicelib.sdk.naming import check_name, check_version
from chalicelib.store.dynamo import to_dynamo

PREFIX = "artifacts/"
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
    too_young: int = 0  # objects within the grace period, not examined
    foreign: list[str] = []  # keys under artifacts/ that are not in the artifact layout: left alone
    orphans: list[Orphan] = []
    deleted: list[str] = []
    dry_run: bool = True


def parse_data_key(key: str) -> tuple[str, str] | None:
    """(artifact, version) of `artifacts/<name>/.../<version>.<ext>`, or None for any other key."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != PREFIX.rstrip("/"):
        return None
    stem, dot, _ = parts[-1].rpartition(".")
    try:
        return check_name("artifact", parts[1]), check_version(stem if dot else "")
    except CascadeError:
        return None


def _metadata(dynamodb: Any, table: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """uri of each (artifact, version) that has a metadata item: BatchGetItem, 100 keys at a time."""
    found: dict[tuple[str, str], str] = {}
    unique = sorted(set(keys))
    for i in range(0, len(unique), 100):
        request: dict[str, Any] = {table: {
            "Keys": [to_dynamo({"pk": f"A#{a}", "sk": f"V#{v}"}) for a, v in unique[i:i + 100]],
            "ProjectionExpression": "#n, #v, uri", "ExpressionAttributeNames": {"#n": "name", "#v": "version"},
            "ConsistentRead": True,
        }}
        while request:
            resp = dynamodb.batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(table, []):
                found[(item["name"]["S"], item["version"]["S"])] = item["uri"]["S"]
            request = resp.get("UnprocessedKeys") or {}
    return found


def find_orphans(s3: Any, dynamodb: Any, bucket: str, table: str, grace: timedelta = DEFAULT_GRACE,
                 now: datetime | None = None) -> GcReport:
    """Every data object under artifacts/ older than `grace` whose version has no metadata item pointing at it."""
    now = now or datetime.now(timezone.utc)
    report = GcReport(bucket=bucket)
    candidates: list[tuple[dict[str, Any], str, str]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for obj in page.get("Contents", []):
            report.scanned += 1
            parsed = parse_data_key(obj["Key"])
            if parsed is None:
                report.foreign.append(obj["Key"])
            elif now - obj["LastModified"] < grace:
                report.too_young += 1
            else:
                candidates.append((obj, *parsed))
    uris = _metadata(dynamodb, table, [(a, v) for _, a, v in candidates])
    for obj, artifact, version in candidates:
        uri = uris.get((artifact, version))
        if uri == f"s3://{bucket}/{obj['Key']}":
            continue
        report.orphans.append(Orphan(
            key=obj["Key"], artifact=artifact, version=version, size=obj.get("Size", 0),
            last_modified=obj["LastModified"],
            reason="no metadata item" if uri is None else f"the version's metadata item points to {uri}",
        ))
    return report


def remove(s3: Any, dynamodb: Any, table: str, report: GcReport) -> GcReport:
    """Delete the orphans of `report` (every stored S3 version of each key), re-checking each first."""
    still = _metadata(dynamodb, table, [(o.artifact, o.version) for o in report.orphans])
    for orphan in report.orphans:
        if still.get((orphan.artifact, orphan.version)) == f"s3://{report.bucket}/{orphan.key}":
            continue  # its metadata item appeared since the scan: no longer an orphan
        versions = s3.list_object_versions(Bucket=report.bucket, Prefix=orphan.key)
        targets = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                   for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []) if v["Key"] == orphan.key]
        if targets:
            s3.delete_objects(Bucket=report.bucket, Delete={"Objects": targets, "Quiet": True})
        else:
            s3.delete_object(Bucket=report.bucket, Key=orphan.key)
        report.deleted.append(orphan.key)
    report.dry_run = False
    return report
