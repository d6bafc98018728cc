"""The upload key layout, read and written. Pure: no I/O.

    uploads/<artifact>/<key1>=<value1>/.../[time_partition=<ISO 8601>/]<file>.{parquet,csv,json}

Partition segments may come in any order. Keys arrive here already URL-decoded (see chalicelib.events.s3).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timezone
from pathlib import PurePosixPath
from urllib.parse import unquote

from pydantic import BaseModel

from chalicelib.errors import InvalidNameError
from chalicelib.sdk.timeparts import TIME_PARTITION
from chalicelib.sdk.charset import check_name, check_value
from chalicelib.sdk.timeparts import Granularity, iso, normalize
from chalicelib.store.declarations import ArtifactDeclaration
from chalicelib.uploads.errors import Reason, UploadRejected

UPLOAD_PREFIX = "uploads/"
QUARANTINE_PREFIX = "quarantine/"
FORMATS = {".parquet": "parquet", ".csv": "csv", ".json": "json"}
LAYOUT = "uploads/<artifact>/<key>=<value>/.../[time_partition=<ISO 8601>/]<file>.{parquet,csv,json}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DOT_SEGMENTS = {".", ".."}


class UploadKey(BaseModel):
    """What a key says, before it is checked against the artifact's declaration."""

    artifact: str
    partitions: dict[str, str]
    time_partition: str | None  # as written; interpreted with the artifact's granularity
    filename: str
    format: str


class Placement(BaseModel):
    """Where an accepted upload goes: the artifact version's partitions and normalized time partition."""

    artifact: str
    partitions: dict[str, str]
    time_partition: datetime | None
    format: str


def _check_traversal(key: str) -> None:
    if "\\" in key or _CONTROL.search(key):
        raise UploadRejected(Reason.TRAVERSAL, f"upload key {key!r} contains a backslash or a control character")
    for segment in key.split("/"):
        # a segment that is, or decodes once more to, '.' or '..' (or hides a separator) is a traversal attempt
        again = unquote(segment)
        if segment in _DOT_SEGMENTS or again in _DOT_SEGMENTS or ("/" in again or "\\" in again):
            raise UploadRejected(
                Reason.TRAVERSAL, f"upload key {key!r} has the path segment {segment!r}; '.' and '..' are not allowed"
            )


def parse_key(key: str) -> UploadKey:
    """Read an upload key (already URL-decoded). Raises UploadRejected with the reason."""
    _check_traversal(key)
    if not key.startswith(UPLOAD_PREFIX):
        raise UploadRejected(Reason.BAD_KEY, f"key {key!r} is not under {UPLOAD_PREFIX!r}; put uploads at {LAYOUT}")
    segments = key[len(UPLOAD_PREFIX):].split("/")
    if len(segments) < 2 or any(s == "" for s in segments):
        raise UploadRejected(
            Reason.BAD_KEY, f"upload key {key!r} does not follow the layout {LAYOUT} (empty or missing segments)"
        )
    artifact, *middle, filename = segments
    try:
        check_name("artifact", artifact)
    except InvalidNameError as exc:
        raise UploadRejected(Reason.BAD_KEY, f"upload key {key!r}: {exc}") from exc
    fmt = FORMATS.get(PurePosixPath(filename).suffix.lower())
    if fmt is None:
        raise UploadRejected(
            Reason.UNSUPPORTED_FORMAT,
            f"upload {key!r}: file name {filename!r} must end in one of {', '.join(FORMATS)}",
        )
    partitions: dict[str, str] = {}
    time_partition: str | None = None
    for segment in middle:
        name, eq, value = segment.partition("=")
        if not eq:
            raise UploadRejected(
                Reason.BAD_KEY, f"upload key {key!r}: segment {segment!r} is not <key>=<value>; the layout is {LAYOUT}"
            )
        if name == TIME_PARTITION:
            if time_partition is not None:
                raise UploadRejected(Reason.BAD_KEY, f"upload key {key!r} gives time_partition twice")
            time_partition = value
            continue
        try:
            check_name(f"artifact {artifact!r} partition key", name)
        except InvalidNameError as exc:
            raise UploadRejected(Reason.BAD_KEY, f"upload key {key!r}: {exc}") from exc
        if name in partitions:
            raise UploadRejected(Reason.BAD_KEY, f"upload key {key!r} gives partition {name!r} twice")
        try:
            partitions[name] = check_value(artifact, name, value)
        except InvalidNameError as exc:
            raise UploadRejected(Reason.BAD_PARTITION_VALUE, f"upload key {key!r}: {exc}") from exc
    return UploadKey(artifact=artifact, partitions=partitions, time_partition=time_partition, filename=filename,
                     format=fmt)


def parse_time(text: str) -> datetime:
    """ISO 8601 date or date-time; a time without an offset is UTC (an upload has no local time zone)."""
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise UploadRejected(
            Reason.TIME_PARTITION_INVALID,
            f"time_partition={text!r} is not ISO 8601; write e.g. time_partition=2026-11-25 "
            f"or time_partition=2026-11-25T13:00:00Z",
        ) from exc
    try:
        return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00:00-05:00 is in the year 10000 in UTC
        raise _out_of_range(text) from exc


def _out_of_range(text: str) -> UploadRejected:
    return UploadRejected(
        Reason.TIME_PARTITION_OUT_OF_RANGE,
        f"time_partition={text!r} is outside the years 1-9999 once converted to UTC; write a time within "
        f"0001-01-02 and 9999-12-30, e.g. time_partition=2026-11-25",
    )


def place(parsed: UploadKey, declaration: ArtifactDeclaration | None, key: str) -> Placement:
    """Check a parsed key against the artifact's declaration (None: not declared). Pure."""
    name = parsed.artifact
    if declaration is None:
        raise UploadRejected(
            Reason.UNKNOWN_ARTIFACT,
            f"upload {key!r}: no artifact {name!r} is registered; declare Artifact({name!r}, accepts_uploads=True) "
            f"in a workflow file and register it",
        )
    if not declaration.accepts_uploads:
        raise UploadRejected(
            Reason.UPLOADS_NOT_ACCEPTED,
            f"upload {key!r}: artifact {name!r} does not accept uploads; declare it with accepts_uploads=True",
        )
    expected, got = sorted(declaration.partition_keys), sorted(parsed.partitions)
    if expected != got:
        raise UploadRejected(
            Reason.PARTITION_MISMATCH,
            f"upload {key!r}: artifact {name!r} has partition keys {expected}; the key gives {got}. "
            f"Put the file at {layout_for(declaration)}",
        )
    time_partition = None
    if declaration.time_partitioned:
        if parsed.time_partition is None:
            raise UploadRejected(
                Reason.TIME_PARTITION_MISSING,
                f"upload {key!r}: artifact {name!r} is time partitioned; add a time_partition=<ISO 8601> segment, "
                f"as in {layout_for(declaration)}",
            )
        try:
            time_partition = normalize(parse_time(parsed.time_partition), Granularity(declaration.granularity))
        except OverflowError as exc:  # normalizing cannot leave the range today; a new granularity might
            raise _out_of_range(parsed.time_partition) from exc
    elif parsed.time_partition is not None:
        raise UploadRejected(
            Reason.TIME_PARTITION_UNEXPECTED,
            f"upload {key!r}: artifact {name!r} is not time partitioned; drop the time_partition segment",
        )
    return Placement(artifact=name, partitions=dict(parsed.partitions), time_partition=time_partition,
                     format=parsed.format)


def layout_for(declaration: ArtifactDeclaration) -> str:
    """The key layout for one artifact, e.g. uploads/sales/region=<region>/time_partition=<ISO 8601>/<file>.csv."""
    parts = [f"{k}=<{k}>" for k in declaration.partition_keys]
    if declaration.time_partitioned:
        parts.append(f"{TIME_PARTITION}=<ISO 8601>")
    return "/".join(["uploads", declaration.name, *parts, "<file>.{parquet,csv,json}"])


def build_key(declaration: ArtifactDeclaration, partitions: dict[str, str], time_partition: datetime | None,
              filename: str) -> str:
    """The key to put a file at so that it becomes a version with these partitions (checked here)."""
    key_parts = [f"{k}={partitions[k]}" for k in declaration.partition_keys if k in partitions]
    key_parts += [f"{k}={v}" for k, v in sorted(partitions.items()) if k not in declaration.partition_keys]
    if time_partition is not None:
        key_parts.append(f"{TIME_PARTITION}={iso(time_partition)}")
    key = "/".join(["uploads", declaration.name, *key_parts, filename])
    parsed = parse_key(key)  # the same checks the handler makes
    place(parsed, declaration, key)
    return key


def object_id(bucket: str, key: str, version_id: str | None, etag: str) -> str:
    """The identity of one uploaded object: the same (bucket, key, version id or ETag) always gives the same id."""
    identity = version_id if version_id and version_id != "null" else etag.strip('"')
    return hashlib.sha256("\x1f".join([bucket, key, identity]).encode()).hexdigest()[:24]


def quarantine_key(oid: str, key: str) -> str:
    """Where a refused object is copied: quarantine/<object id>/<file name, made safe>."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", key.rsplit("/", 1)[-1]).lstrip(".") or "object"
    return f"{QUARANTINE_PREFIX}{oid}/{name[:200]}"
