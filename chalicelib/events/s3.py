"""S3 event notifications → one typed record per created object, with the key URL-decoded.

S3 sends keys URL-encoded as in a form: spaces as '+', everything else reserved or non-ASCII as %XX
(UTF-8). `unquote_plus` undoes exactly that.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event, S3EventRecord
from pydantic import BaseModel

from chalicelib.errors import EventError


class ObjectCreated(BaseModel):
    bucket: str
    key: str  # decoded
    raw_key: str  # as in the event
    size: int
    etag: str
    version_id: str | None = None
    sequencer: str | None = None
    event_name: str
    event_time: datetime

    @property
    def identity(self) -> str:
        """What names this object's content: its version id in a versioned bucket, else its ETag."""
        return self.version_id if self.version_id and self.version_id != "null" else self.etag


def _event_time(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # S3 writes UTC; some emulators leave out the 'Z'
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _created(record: S3EventRecord) -> ObjectCreated:
    obj = record.s3.get_object
    raw_key = obj.key
    return ObjectCreated(
        bucket=record.s3.bucket.name,
        key=unquote_plus(raw_key),
        raw_key=raw_key,
        size=obj.size,
        etag=obj.etag.strip('"'),
        version_id=obj.version_id,
        sequencer=obj.get("sequencer"),
        event_name=record.event_name,
        event_time=_event_time(record.event_time),
    )


def records(event: dict[str, Any]) -> list[S3EventRecord]:
    """The records of an S3 notification (S3's test event has none)."""
    if "Records" not in event:
        if event.get("Event") == "s3:TestEvent":
            return []
        raise EventError(f"not an S3 event notification: no 'Records' in an event with keys {sorted(event)}")
    return list(S3Event(event).records)


def object_created(record: S3EventRecord | dict[str, Any]) -> ObjectCreated | None:
    """The created object a record announces; None for other S3 events. A broken record raises EventError."""
    if not isinstance(record, S3EventRecord):
        record = S3EventRecord(record)
    if record.get("eventSource") != "aws:s3":
        raise EventError(f"record has eventSource {record.get('eventSource')!r}; expected 'aws:s3'")
    if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
        return None
    try:
        return _created(record)
    except (KeyError, TypeError, ValueError) as exc:
        raise EventError(f"S3 record ({record.get('eventName')}) is missing or has a bad field: {exc}") from exc


def objects_created(event: dict[str, Any]) -> list[ObjectCreated]:
    """Every ObjectCreated record of an S3 notification, in order."""
    return [obj for obj in map(object_created, records(event)) if obj is not None]
