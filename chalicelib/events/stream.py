"""DynamoDB stream records of the artifacts table → ArtifactVersion."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from pydantic import ValidationError

from chalicelib.errors import EventError
from chalicelib.store.models import ArtifactVersion


def version_from_record(record: DynamoDBRecord | dict[str, Any]) -> ArtifactVersion | None:
    """The new artifact version a stream record announces, or None for records that announce none
    (updates, deletes). A record that claims to be a version but cannot be read raises EventError."""
    if not isinstance(record, DynamoDBRecord):
        record = DynamoDBRecord(record)
    name = record.raw_event.get("eventName")
    if name != "INSERT":
        if name in ("MODIFY", "REMOVE"):
            return None
        raise EventError(f"stream record {record.raw_event.get('eventID')!r} has eventName {name!r}; expected INSERT, MODIFY or REMOVE")
    if not isinstance(record.raw_event.get("dynamodb"), dict) or "NewImage" not in record.raw_event["dynamodb"]:
        raise EventError(
            f"stream record {record.raw_event.get('eventID')!r} has no NewImage; set the table's stream view type to NEW_IMAGE"
        )
    try:
        image = record.dynamodb.new_image  # type: ignore[union-attr]
    except Exception as exc:
        raise EventError(f"stream record {record.raw_event.get('eventID')!r}: NewImage is not DynamoDB JSON: {exc}") from exc
    if not str(image.get("pk", "")).startswith("A#"):
        return None
    try:
        return ArtifactVersion.from_item(image)
    except (KeyError, ValidationError) as exc:
        raise EventError(f"stream record {record.raw_event.get('eventID')!r} is not a valid artifact version: {exc}") from exc
