"""DynamoDB stream records of the artifacts table → ArtifactVersion.

A version item (keyed as chalicelib.store.models.version_keys says) must be complete, agree with its keys, and pass the
charset rules of `chalicelib.sdk.charset`: an item written around the SDK cannot smuggle S3 key or DynamoDB
key syntax into the runs it triggers. A record that breaks these rules raises a named error, so the trigger
reports it as a failed batch item (after the event source mapping's retries it lands in the dead-letter
queue); it is never dropped silently. Other items of the table (other key prefixes) announce no version.
"""

from __future__ import annotations

from typing import Any

from chalicelib.errors import ArtifactError, MalformedRecordError
from chalicelib.sdk.charset import check_name, check_partition_size, check_value, check_version
from chalicelib.store.dynamo import from_dynamo
from chalicelib.store.models import ArtifactVersion, is_version_key, version_keys


class DynamoDBRecord:
    """One stream record as Lambda delivers it: `raw_event` is the record, `new_image` its NewImage as Python
    values. What the trigger reads of powertools' class of the same name, whose package imports every event
    class powertools has (50 modules the trigger never uses)."""

    __slots__ = ("raw_event",)

    def __init__(self, raw_event: dict[str, Any]) -> None:
        self.raw_event = raw_event

    @property
    def new_image(self) -> dict[str, Any]:
        """NewImage decoded (chalicelib.store.dynamo); raises if the record has none or it is not DynamoDB JSON."""
        return from_dynamo(self.raw_event["dynamodb"]["NewImage"])


def record_id(record: DynamoDBRecord | dict[str, Any]) -> dict[str, Any]:
    """The ids that name a stream record in logs and errors: event id and sequence number."""
    raw = record.raw_event if isinstance(record, DynamoDBRecord) else record
    body = raw.get("dynamodb") if isinstance(raw, dict) else None
    return {"event_id": raw.get("eventID") if isinstance(raw, dict) else None,
            "sequence_number": body.get("SequenceNumber") if isinstance(body, dict) else None}


def version_from_record(record: DynamoDBRecord | dict[str, Any]) -> ArtifactVersion | None:
    """The new artifact version a stream record announces, or None for records that announce none
    (updates, deletes, items that are not versions). A version record that cannot be read raises
    MalformedRecordError; forged names, partitions or versions raise InvalidNameError."""
    if not isinstance(record, DynamoDBRecord):
        record = DynamoDBRecord(record)
    rid = record.raw_event.get("eventID")
    name = record.raw_event.get("eventName")
    if name != "INSERT":
        if name in ("MODIFY", "REMOVE"):
            return None
        raise MalformedRecordError(f"stream record {rid!r} has eventName {name!r}; expected INSERT, MODIFY or REMOVE")
    if not isinstance(record.raw_event.get("dynamodb"), dict) or "NewImage" not in record.raw_event["dynamodb"]:
        raise MalformedRecordError(
            f"stream record {rid!r} has no NewImage; set the table's stream view type to NEW_IMAGE"
        )
    try:
        image = record.new_image
    except Exception as exc:
        raise MalformedRecordError(f"stream record {rid!r}: NewImage is not DynamoDB JSON: {exc}") from exc
    pk, sk = image.get("pk"), image.get("sk")
    if not is_version_key(pk, sk):
        return None
    try:
        version = ArtifactVersion.from_item(image)
    except KeyError as exc:
        raise MalformedRecordError(f"stream record {rid!r} is not a valid artifact version: it lacks {exc}") from exc
    except (TypeError, ValueError, ArtifactError) as exc:
        raise MalformedRecordError(f"stream record {rid!r} is not a valid artifact version: {exc}") from exc
    check_name("artifact", version.name)
    check_version(version.version)
    for key, value in version.partitions.items():
        check_name(f"artifact {version.name!r} partition key", key)
        check_value(version.name, key, value)
    check_partition_size(version.name, version.partitions)
    if {"pk": pk, "sk": sk} not in version_keys(version.name, version.version):
        raise MalformedRecordError(
            f"stream record {rid!r}: key {pk}/{sk} does not match its artifact {version.name!r} "
            f"version {version.version!r}; the item was not written by the artifact store"
        )
    return version
