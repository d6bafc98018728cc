"""Uploading from outside the stage, as a person or a script would: put the file at the right key, then
follow what it set off (the upload's fate, the versions and executions that followed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from msgspec import Struct

from chalicelib import aws
from chalicelib.errors import ArtifactError, CascadeError, UnknownArtifactError
from chalicelib.observe import Observer
from chalicelib.ops.follow import TERMINAL, closure, execution_arns
from chalicelib.ops.stage import Stage
from chalicelib.sdk.timeparts import Granularity, normalize
from chalicelib.store.declarations import Declarations
from chalicelib.store.uploads import UploadLog, UploadState
from chalicelib.uploads.keys import build_key, object_id, parse_time




class Uploaded(Struct):
    bucket: str
    key: str
    object_id: str
    identity: str
    size: int
    repeated: bool  # the same content was already at this key: the same object, so nothing new follows


def put(conn: Stage, file: str | Path, artifact: str, partitions: dict[str, str],
        time_partition: str | None = None, on_bytes: Callable[[int], None] | None = None) -> Uploaded:
    """Check the artifact accepts this upload (one GetItem), then put the file at its key."""
    path = Path(file)
    if not path.is_file():
        raise CascadeError(f"upload: {str(file)!r} is not a file")
    settings = conn.settings
    declaration = Declarations(settings.registry_table, conn.client("dynamodb")).get(artifact)
    if declaration is None:
        raise UnknownArtifactError(
            f"no artifact {artifact!r} is registered in stage {settings.stage!r}; register the workflow file "
            f"that declares it (with accepts_uploads=True)"
        )
    if not declaration.accepts_uploads:
        raise ArtifactError(f"artifact {artifact!r} does not accept uploads; declare it with accepts_uploads=True")
    tp = None
    if time_partition is not None and declaration.time_partitioned:
        tp = normalize(parse_time(time_partition), Granularity(declaration.granularity))
    elif time_partition is not None:
        raise ArtifactError(f"artifact {artifact!r} is not time partitioned; drop --time-partition")
    key = build_key(declaration, partitions, tp, path.name)
    s3 = conn.client("s3")
    previous = _identity(s3, settings.bucket, key)
    s3.upload_file(str(path), settings.bucket, key, Callback=on_bytes)  # multipart when large
    current = _identity(s3, settings.bucket, key)
    if current is None:
        raise CascadeError(f"s3://{settings.bucket}/{key} is not there right after the upload; was it deleted?")
    return Uploaded(bucket=settings.bucket, key=key, object_id=object_id(settings.bucket, key, *current),
                    identity=current[0] if current[0] and current[0] != "null" else current[1],
                    size=path.stat().st_size, repeated=previous == current)


def _identity(s3: Any, bucket: str, key: str) -> tuple[str | None, str] | None:
    """(version id, ETag) of the object at `key`, or None."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if aws.error_code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return head.get("VersionId"), head["ETag"].strip('"')


class Followed(Struct):
    upload: UploadState | None
    executions: list[dict[str, Any]]
    artifacts: list[dict[str, Any]]
    timed_out: bool = False

    def report(self) -> dict[str, Any]:
        return {"upload": self.upload.model_dump(mode="json") if self.upload else None,
                "executions": self.executions, "artifacts": self.artifacts, "errors": [], "timed_out": self.timed_out}


def _followed(conn: Stage, uploaded: Uploaded, state: UploadState, before: set[str],
              described: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The upload's version, the executions it triggered, the versions those produced, and so on
    (executions started before the upload excluded)."""
    observer = Observer(conn.settings, conn.dynamodb, conn.sfn)
    for arn in execution_arns(conn) - before:
        if arn not in described or described[arn]["status"] not in TERMINAL:
            described[arn] = observer.describe(arn, full=True).model_dump()
    versions = [v.report() for v in observer.store.all_versions()]
    return closure(described, versions, roots=set(), root_versions={f"{state.artifact}:{state.version}"})


def follow(conn: Stage, uploaded: Uploaded, before: set[str], timeout: float = 300, settle: float = 0.5,
           poll: float = 0.25, on_tick: Callable[[UploadState | None, list[dict[str, Any]]], None] | None = None
           ) -> Followed:
    """Wait until the upload is registered or quarantined and everything it set off has finished and
    nothing new appeared for `settle` seconds (or `timeout` passed)."""
    log = UploadLog(conn.settings.registry_table, conn.client("dynamodb"))
    described: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    last: tuple[Any, ...] | None = None
    calm_since = time.monotonic()
    while True:
        state = log.state(uploaded.object_id)
        execs, arts = ([], []) if state is None or state.state == "quarantined" else \
            _followed(conn, uploaded, state, before, described)
        if on_tick:
            on_tick(state, execs)
        snapshot = (state.state if state else None, tuple((e["id"], e["status"]) for e in execs),
                    tuple(a["version"] for a in arts))
        if snapshot != last:
            last, calm_since = snapshot, time.monotonic()
        settled = state is not None and state.done and all(e["status"] in TERMINAL for e in execs)
        if settled and time.monotonic() - calm_since >= settle:
            return Followed(state, execs, arts)
        if time.monotonic() >= deadline:
            return Followed(state, execs, arts, timed_out=True)
        time.sleep(poll)
