"""The upload Lambda: each created object under uploads/ becomes an artifact version or is quarantined.

Per object: one GetItem for what became of it before (a redelivered event stops there), one GetItem for
the artifact's declaration, a GetObject of exactly the object the event names (two for a CSV, which is read
twice in chunks), then either
  * a claim that fixes the version id, ArtifactStore.write (data object, index, then the metadata item whose
    stream record starts the subscribed launch plans; the producer is the uploaded object), and the state
    "registered"; or
  * a copy under quarantine/ and a quarantine record.
Every step is idempotent, so a retry after a crash half-way finishes the job without doing anything twice.

Nothing is lost, whatever arrives:
  * a refused object (UploadRejected) is quarantined with its reason;
  * any other failure of our code on one object (a bug, a version conflict, ...) is quarantined with reason
    `processing_error` and the error;
  * an AWS error (throttling, 5xx, access denied) is not the object's fault: the other objects are done,
    then it is raised, so Lambda retries the invocation and, after its retries, sends the event to the
    upload dead-letter queue (the function's on-failure destination), which `uploads --failed` lists;
  * S3's test event is skipped; a malformed event or record (chalicelib.events.s3) is logged as
    MalformedRecordError and recorded like a quarantine, with reason `malformed_event` and the record.

This module imports neither user workflow files nor pandas (only csv and parquet checks load pandas).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from chalicelib import aws
from chalicelib.aws import error_code
from chalicelib.config import Settings
from chalicelib.errors import MalformedRecordError, TransientAwsError
from chalicelib.events.s3 import MalformedRecord, ObjectCreated, notification
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.declarations import Declarations
from chalicelib.store.models import UploadProducer, make_version
from chalicelib.uploads import content
from chalicelib.uploads.errors import Reason, UploadProcessingError, UploadRejected
from chalicelib.uploads.content import Limits
from chalicelib.uploads.keys import UPLOAD_PREFIX, Placement, object_id, parse_key, place, quarantine_key
from chalicelib.store.uploads import QuarantineRecord, UploadLog, UploadState

logger = Logger(service="uploads")

GONE = ("NoSuchKey", "NoSuchVersion", "PreconditionFailed", "404", "412")
MAX_MESSAGE = 2000  # characters of an error message kept in a quarantine record


class ObjectGone(Exception):
    """The object was deleted or replaced between two reads (its replacement has its own event)."""


def is_aws_error(exc: BaseException) -> bool:
    """An error of AWS or of the way to it, not of the object: retried by Lambda, then dead-lettered."""
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (ClientError, BotoCoreError, TransientAwsError))


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Outcome(BaseModel):
    key: str
    outcome: Literal["registered", "duplicate", "quarantined", "ignored", "gone", "malformed"]
    artifact: str | None = None
    version: str | None = None
    reason: str | None = None


class UploadHandler:
    def __init__(self, settings: Settings, s3: Any, dynamodb: Any, limits: Limits | None = None) -> None:
        self.settings = settings
        self.limits = limits or Limits(max_upload_bytes=settings.max_upload_bytes)
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

    def _get(self, obj: ObjectCreated) -> Any:
        """A stream of the object's bytes, or None when it was deleted or replaced since the event."""
        try:
            return self.s3.get_object(**self._source(obj))["Body"]
        except Exception as exc:
            if error_code(exc) in GONE:
                return None
            raise

    def open(self, obj: ObjectCreated) -> content.Source | None:
        """What reads the object (a fresh GetObject per read after the first), or None when it is gone."""
        first = self._get(obj)
        if first is None:
            return None
        pending = [first]

        def source() -> Any:
            if pending:
                return pending.pop()
            again = self._get(obj)
            if again is None:
                raise ObjectGone(obj.key)
            return again

        return source

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
            reason=rejected.reason.value, message=str(rejected)[:MAX_MESSAGE], quarantine_key=target,
            uploaded_at=obj.event_time,
        ))
        logger.warning("upload quarantined", extra={"key": obj.key, "reason": record.reason, "detail": record.message,
                                                    "quarantine_key": record.quarantine_key})
        return Outcome(key=obj.key, outcome="quarantined", reason=record.reason)

    def malformed(self, bad: MalformedRecord) -> Outcome:
        """Log a malformed event or record with its named error and record it for the operator."""
        logger.error("malformed S3 event", extra={"error_type": MalformedRecordError.__name__, "error": bad.error,
                                                  "record": bad.index, "key": bad.key or None})
        record = self.log.quarantined(QuarantineRecord(
            id=bad.id, bucket=bad.bucket, key=bad.key, identity="", size=0, reason=Reason.MALFORMED_EVENT.value,
            message=bad.error[:MAX_MESSAGE], quarantine_key=None, uploaded_at=bad.event_time or _now(),
            event=bad.raw,
        ))
        return Outcome(key=bad.key, outcome="malformed", reason=record.reason)

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
            return self.process(obj, oid)
        except UploadRejected as rejected:
            return self.quarantine(obj, oid, rejected)
        except ObjectGone:
            return self.gone(obj)
        except Exception as exc:
            if is_aws_error(exc):
                raise
            logger.exception("upload processing failed", extra={"key": obj.key, "error_type": type(exc).__name__})
            return self.quarantine(obj, oid, UploadRejected(
                Reason.PROCESSING_ERROR,
                f"upload {obj.key!r} could not be processed: {type(exc).__name__}: {exc}. This is a defect of "
                f"cascade, not of the file: report it; once fixed, put the file again",
            ))

    def gone(self, obj: ObjectCreated) -> Outcome:
        logger.info("upload gone before it was read", extra={"key": obj.key, "identity": obj.identity})
        return Outcome(key=obj.key, outcome="gone")

    def process(self, obj: ObjectCreated, oid: str) -> Outcome:
        placement = self.check(obj)
        source = self.open(obj)
        if source is None:
            return self.gone(obj)
        data, fmt = content.prepare(source, placement.format, obj.key, self.limits)
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

    def handle(self, event: Any) -> dict[str, Any]:
        note = notification(event)
        if note.test_event:
            logger.info("S3 test event skipped")
            return {"uploads": [], "test_event": True}
        steps: list[tuple[int, Any]] = [(-1 if m.index is None else m.index, m) for m in note.malformed]
        steps += note.created
        steps += [(i, name) for i, name in note.other]
        outcomes: list[dict[str, Any]] = []
        failures: list[str] = []
        for i, step in sorted(steps, key=lambda s: s[0]):
            try:
                if isinstance(step, MalformedRecord):
                    outcome = self.malformed(step)
                elif isinstance(step, ObjectCreated):
                    outcome = self.on_object(step)
                else:
                    logger.info("not an object creation", extra={"record": i, "event_name": step})
                    outcome = Outcome(key="", outcome="ignored", reason=f"event {step}")
                outcomes.append(outcome.model_dump(exclude_none=True))
            except Exception as exc:  # an AWS error on one object must not stop the others
                logger.exception("upload not processed", extra={"record": i, "error_type": type(exc).__name__})
                failures.append(f"record {i}: {type(exc).__name__}: {exc}")
        if failures:
            raise UploadProcessingError(
                f"{len(failures)} upload record(s) failed and will be retried ({'; '.join(failures)})"
            )
        return {"uploads": outcomes}


def limits_from_env(settings: Settings) -> Limits:
    """The upload limits of this stage: CASCADE_<FIELD> environment variables over the defaults."""
    values: dict[str, Any] = {"max_upload_bytes": settings.max_upload_bytes}
    for field in Limits.model_fields:
        name = f"CASCADE_{field.upper()}"
        if field != "max_upload_bytes" and name in os.environ:
            values[field] = os.environ[name]
    return Limits(**values)


@lru_cache(maxsize=1)
def default_uploads() -> UploadHandler:
    settings = Settings.from_env()
    return UploadHandler(settings, aws.client("s3", settings.region), aws.client("dynamodb", settings.region),
                         limits_from_env(settings))
