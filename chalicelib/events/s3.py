"""S3 event notifications → one typed record per created object, with the key URL-decoded.

S3 sends keys URL-encoded as in a form: spaces as '+', everything else reserved or non-ASCII as %XX
(UTF-8). `unquote_plus` undoes exactly that.

The raw event is read here, field by field, and never by chalice or powertools (chalice's `S3Event` reads
`Records[0]` first; `app.on_upload` gets the raw event through chalicelib/uploads/raw_event.py instead).
`notification` sorts an event into S3's test event, created objects, records that are no concern of the
upload function (other event names), and malformed records, each with the error that names what is wrong.
Nothing here raises for a bad event; `objects_created` is the strict form, which does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel

from chalicelib.errors import EventError, MalformedRecordError

TEST_EVENT = "s3:TestEvent"
RAW_LIMIT = 8192  # characters of a malformed record kept for the operator (items stop at 400 KB)


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


class MalformedRecord(BaseModel):
    """A record (or a whole event) that is not an S3 notification S3 would send. `raw` is its JSON text
    (cut at RAW_LIMIT characters); bucket, key and time are what could be read of it."""

    index: int | None  # position in Records; None when the event itself is malformed
    error: str  # a MalformedRecordError's message: what is wrong and what was expected
    raw: str
    bucket: str = ""
    key: str = ""
    event_time: datetime | None = None

    @property
    def id(self) -> str:
        """The same malformed record always gets the same id (a redelivery finds its record)."""
        return hashlib.sha256(f"malformed\x1f{self.index}\x1f{self.raw}".encode()).hexdigest()[:24]


class Notification(BaseModel):
    test_event: bool = False
    created: list[tuple[int, ObjectCreated]] = []
    other: list[tuple[int, str]] = []  # (index, eventName) of records the upload function has no business with
    malformed: list[MalformedRecord] = []


def _event_time(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # S3 writes UTC; some emulators leave out the 'Z'
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _raw(value: Any) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=repr)
    except (ValueError, RecursionError):  # circular or absurdly deep: what Lambda cannot even deliver
        text = repr(value)
    return text[:RAW_LIMIT]


def _get(value: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _text(record: dict[str, Any], *path: str) -> str:
    value = _get(record, *path)
    if not isinstance(value, str) or not value:
        raise MalformedRecordError(f"S3 record field {'.'.join(path)} is {value!r}; S3 always sends a non-empty "
                                   f"string there")
    return value


def _created(record: dict[str, Any]) -> ObjectCreated:
    """An ObjectCreated record → ObjectCreated; MalformedRecordError names the first missing or bad field."""
    raw_key = _text(record, "s3", "object", "key")
    size = _get(record, "s3", "object", "size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise MalformedRecordError(f"S3 record field s3.object.size is {size!r}; S3 sends the object's size in "
                                   f"bytes, a non-negative integer")
    version_id = _get(record, "s3", "object", "versionId")
    sequencer = _get(record, "s3", "object", "sequencer")
    time_text = _text(record, "eventTime")
    try:
        event_time = _event_time(time_text)
    except (ValueError, OverflowError) as exc:
        raise MalformedRecordError(f"S3 record field eventTime {time_text!r} is not an ISO 8601 time: {exc}") from exc
    return ObjectCreated(
        bucket=_text(record, "s3", "bucket", "name"),
        key=unquote_plus(raw_key),
        raw_key=raw_key,
        size=size,
        etag=_text(record, "s3", "object", "eTag").strip('"'),
        version_id=version_id if isinstance(version_id, str) and version_id else None,
        sequencer=sequencer if isinstance(sequencer, str) else None,
        event_name=_text(record, "eventName"),
        event_time=event_time,
    )


def _malformed(index: int | None, error: str, raw: Any) -> MalformedRecord:
    bucket, key = _get(raw, "s3", "bucket", "name"), _get(raw, "s3", "object", "key")
    when = _get(raw, "eventTime")
    try:
        event_time = _event_time(when) if isinstance(when, str) else None
    except (ValueError, OverflowError):
        event_time = None
    return MalformedRecord(index=index, error=error, raw=_raw(raw),
                           bucket=bucket if isinstance(bucket, str) else "",
                           key=unquote_plus(key) if isinstance(key, str) else "", event_time=event_time)


def notification(event: Any) -> Notification:
    """Sort a raw event into its parts. Never raises: what cannot be read is a MalformedRecord."""
    if isinstance(event, dict) and event.get("Event") == TEST_EVENT and "Records" not in event:
        return Notification(test_event=True)
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        what = (f"an event with keys {sorted(map(str, event))}" if isinstance(event, dict)
                else f"a {type(event).__name__}")
        found = "an empty 'Records' list" if isinstance(records, list) else (
            "no 'Records' list" if records is None else f"'Records' of type {type(records).__name__}")
        error = (f"not an S3 event notification: {what} with {found}; S3 sends {{\"Records\": [...]}} with one "
                 f"record per object, or its test event {{\"Event\": \"{TEST_EVENT}\"}}")
        return Notification(malformed=[_malformed(None, error, event)])
    out = Notification()
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            out.malformed.append(_malformed(i, f"record {i} is a {type(record).__name__}, not an S3 record", record))
            continue
        if record.get("eventSource") != "aws:s3":
            out.malformed.append(_malformed(i, f"record {i} has eventSource {record.get('eventSource')!r}; "
                                               f"expected 'aws:s3'", record))
            continue
        name = record.get("eventName")
        if not isinstance(name, str) or not name.startswith("ObjectCreated:"):
            if isinstance(name, str) and name:
                out.other.append((i, name))
            else:
                out.malformed.append(_malformed(i, f"record {i} has eventName {name!r}; S3 names every event",
                                                record))
            continue
        try:
            out.created.append((i, _created(record)))
        except MalformedRecordError as exc:
            out.malformed.append(_malformed(i, f"record {i} ({name}): {exc}", record))
    return out


# -- the strict API (tests, tools): a bad event raises EventError ---------------------------------------
def records(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of an S3 notification (S3's test event has none)."""
    if not isinstance(event, dict) or "Records" not in event:
        if isinstance(event, dict) and event.get("Event") == TEST_EVENT:
            return []
        keys = sorted(event) if isinstance(event, dict) else type(event).__name__
        raise EventError(f"not an S3 event notification: no 'Records' in an event with keys {keys}")
    if not isinstance(event["Records"], list):
        raise EventError(f"not an S3 event notification: 'Records' is a {type(event['Records']).__name__}")
    return list(event["Records"])


def object_created(record: dict[str, Any]) -> ObjectCreated | None:
    """The created object a record announces; None for other S3 events. A broken record raises EventError."""
    if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
        source = record.get("eventSource") if isinstance(record, dict) else None
        raise EventError(f"record has eventSource {source!r}; expected 'aws:s3'")
    if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
        return None
    try:
        return _created(record)
    except MalformedRecordError as exc:
        raise EventError(f"S3 record ({record.get('eventName')}) is missing or has a bad field: {exc}") from exc


def objects_created(event: dict[str, Any]) -> list[ObjectCreated]:
    """Every ObjectCreated record of an S3 notification, in order."""
    return [obj for obj in map(object_created, records(event)) if obj is not None]
