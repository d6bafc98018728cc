"""The upload Lambda: each created object under uploads/ becomes an artifact version or is quarantined.

Per object: one GetItem for what became of it before (a redelivered event stops there), one GetItem for
the artifact's declaration, a GetObject of exactly the object the event names, then either
  * a claim that fixes the version id, ArtifactStore.write (data object, index, then the metadata item whose
    stream record starts the subscribed launch plans; the producer is the uploaded object), and the state
    "registered"; or
  * a copy under quarantine/ and a quarantine record.
Every step is idempotent, so a retry after a crash half-way finishes the job without doing anything twice.
A refused object never raises; an AWS failure on one object does not stop the others, and is raised at the
end so that the invocation is retried.

This module imports neither user workflow files nor pandas (only csv and parquet checks load pandas).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from chalicelib import aws
from chalicelib.aws import error_code
from chalicelib.config import Settings
from chalicelib.events.s3 import ObjectCreated, object_created, records
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.declarations import Declarations
from chalicelib.store.models import UploadProducer, make_version
from chalicelib.uploads import content
from chalicelib.uploads.errors import Reason, UploadProcessingError, UploadRejected
from chalicelib.uploads.keys import UPLOAD_PREFIX, Placement, object_id, parse_key, place, quarantine_key
from chalicelib.store.uploads import QuarantineRecord, UploadLog, UploadState

logger = Logger(service="uploads")

GONE = ("NoSuchKey", "NoSuchVersion", "PreconditionFailed", "404", "412")


class Outcome(BaseModel):
    key: str
    outcome: Literal["registered", "duplicate", "quarantined", "ignored", "gone"]
    artifact: str | None = None
    version: str | None = None
    reason: str | None = None


class UploadHandler:
    def __init__(self, settings: Settings, s3: Any, dynamodb: Any) -> None:
        self.settings = settings
        self.s3 = s3
        self.store = ArtifactStore(settings, s3, dynamodb)
        self.log = UploadLog(settings.registry_table, dynamodb)
        self.declarations = Declarations(settings.registry_table, dynamodb)

    # -- deciding -----------------------------------------------------------------------------------
    def check(self, obj: ObjectCreated) -> Placement:
        """Everything that can be judged without reading the object."""
        parsed = parse_key(obj.key)
        placement = place(parsed, self.declarations.get(parsed.artifact), obj.key)
        if obj.size > self.settings.max_upload_bytes:
            raise UploadRejected(
                Reason.OVERSIZE,
                f"upload {obj.key!r} is {obj.size} bytes; the limit is {self.settings.max_upload_bytes} "
                f"(CASCADE_MAX_UPLOAD_BYTES)",
            )
        if obj.size == 0:
            raise UploadRejected(Reason.EMPTY, f"upload {obj.key!r} is empty; upload a file with data")
        return placement

    # -- acting -------------------------------------------------------------------------------------
    def _source(self, obj: ObjectCreated) -> dict[str, Any]:
        """Exactly the object the event names: that version, or that content (If-Match on the ETag)."""
        if obj.version_id and obj.version_id != "null":
            return {"Bucket": obj.bucket, "Key": obj.key, "VersionId": obj.version_id}
        return {"Bucket": obj.bucket, "Key": obj.key, "IfMatch": f'"{obj.etag}"'}

    def fetch(self, obj: ObjectCreated) -> bytes | None:
        """The object's bytes, or None when it was deleted or replaced since the event (the replacement
        has its own event)."""
        try:
            resp = self.s3.get_object(**self._source(obj))
        except Exception as exc:
            if error_code(exc) in GONE:
                return None
            raise
        body = resp["Body"].read(self.settings.max_upload_bytes + 1)
        if len(body) > self.settings.max_upload_bytes:
            raise UploadRejected(
                Reason.OVERSIZE,
                f"upload {obj.key!r} is larger than the limit of {self.settings.max_upload_bytes} bytes "
                f"(CASCADE_MAX_UPLOAD_BYTES)",
            )
        return body

    def quarantine(self, obj: ObjectCreated, oid: str, rejected: UploadRejected) -> Outcome:
        target: str | None = quarantine_key(oid, obj.key)
        source = self._source(obj)
        copy_source = {k: source[k] for k in ("Bucket", "Key", "VersionId") if k in source}
        extra = {"CopySourceIfMatch": source["IfMatch"]} if "IfMatch" in source else {}
        try:
            # managed copy: multipart for objects beyond CopyObject's 5 GB
            self.s3.copy(copy_source, self.settings.bucket, target, ExtraArgs=extra)
        except Exception as exc:
            if error_code(exc) not in GONE:
                raise
            target = None
        record = self.log.quarantined(QuarantineRecord(
            id=oid, bucket=obj.bucket, key=obj.key, identity=obj.identity, size=obj.size,
            reason=rejected.reason.value, message=str(rejected), quarantine_key=target, uploaded_at=obj.event_time,
        ))
        logger.warning("upload quarantined", extra={"key": obj.key, "reason": record.reason, "detail": record.message,
                                                    "quarantine_key": record.quarantine_key})
        return Outcome(key=obj.key, outcome="quarantined", reason=record.reason)

    def on_object(self, obj: ObjectCreated) -> Outcome:
        if obj.bucket != self.settings.bucket or not obj.key.startswith(UPLOAD_PREFIX):
            logger.info("not an upload", extra={"bucket": obj.bucket, "key": obj.key})
            return Outcome(key=obj.key, outcome="ignored")
        oid = object_id(obj.bucket, obj.key, obj.version_id, obj.etag)
        before = self.log.state(oid)
        if before is not None and before.done:
            return Outcome(key=obj.key, outcome="duplicate", artifact=before.artifact, version=before.version,
                           reason=before.reason)
        try:
            placement = self.check(obj)
            body = self.fetch(obj)
            if body is None:
                logger.info("upload gone before it was read", extra={"key": obj.key, "identity": obj.identity})
                return Outcome(key=obj.key, outcome="gone")
            data, fmt = content.prepare(body, placement.format, obj.key)
        except UploadRejected as rejected:
            return self.quarantine(obj, oid, rejected)
        claim = self.log.claim(UploadState(
            id=oid, bucket=obj.bucket, key=obj.key, identity=obj.identity, state="pending",
            artifact=placement.artifact,
            version=make_version(obj.event_time, "upload", obj.bucket, obj.key, obj.identity),
        ))
        assert claim.version is not None
        producer = UploadProducer(bucket=obj.bucket, key=obj.key,
                                  version_id=obj.version_id if obj.version_id not in (None, "null") else None,
                                  etag=obj.etag)
        record = self.store.write(placement.artifact, data, placement.partitions, placement.time_partition,
                                  claim.version, produced_by=producer, fmt=fmt)
        self.log.registered(claim)
        logger.info("upload registered", extra={"key": obj.key, "artifact": record.name, "version": record.version})
        return Outcome(key=obj.key, outcome="registered", artifact=record.name, version=record.version)

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        outcomes: list[dict[str, Any]] = []
        failures: list[str] = []
        for i, record in enumerate(records(event)):
            try:
                obj = object_created(record)
                if obj is not None:
                    outcomes.append(self.on_object(obj).model_dump(exclude_none=True))
            except Exception as exc:  # one object's failure must not stop the others
                logger.exception("upload not processed", extra={"record": i})
                failures.append(f"record {i}: {type(exc).__name__}: {exc}")
        if failures:
            raise UploadProcessingError(
                f"{len(failures)} upload record(s) failed and will be retried ({'; '.join(failures)})"
            )
        return {"uploads": outcomes}


@lru_cache(maxsize=1)
def default_uploads() -> UploadHandler:
    settings = Settings.from_env()
    return UploadHandler(settings, aws.client("s3", settings.region), aws.client("dynamodb", settings.region))
