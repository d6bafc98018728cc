"""What became of each uploaded object, in the registry table.

    pk = "UPLOAD#<object id>"   sk = "STATE"        one per object: pending → registered, or quarantined
    pk = "QUARANTINE"           sk = "<object id>"  one per refused object: reason, original key, time
                                                    (and one per malformed S3 event record, reason malformed_event)

The object id hashes (bucket, key, version id or ETag), so a redelivered S3 event finds the same items:
the first claim fixes the artifact version, later deliveries reuse it or stop at "registered".
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib.aws import error_code
from chalicelib.store.dynamo import from_dynamo, paginate, to_dynamo
from chalicelib.store.models import iso_ms

QUARANTINE_PK = "QUARANTINE"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class UploadState(BaseModel):
    id: str
    bucket: str
    key: str
    identity: str  # version id or ETag
    state: Literal["pending", "registered", "quarantined"]
    artifact: str | None = None
    version: str | None = None
    reason: str | None = None
    at: datetime = Field(default_factory=_now)

    def to_item(self) -> dict[str, Any]:
        return {"pk": f"UPLOAD#{self.id}", "sk": "STATE", **self.model_dump(exclude={"at"}), "at": iso_ms(self.at)}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> UploadState:
        return cls.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})

    @property
    def done(self) -> bool:
        return self.state != "pending"


class QuarantineRecord(BaseModel):
    id: str
    bucket: str
    key: str  # the original key, decoded
    identity: str
    size: int
    reason: str
    message: str
    quarantine_key: str | None = None  # None when the object was gone before it was copied (or never existed)
    uploaded_at: datetime
    event: str | None = None  # a malformed event's record as received (JSON, cut), for the operator
    at: datetime = Field(default_factory=_now)

    def to_item(self) -> dict[str, Any]:
        return {"pk": QUARANTINE_PK, "sk": self.id,
                **self.model_dump(exclude={"at", "uploaded_at"} | ({"event"} if self.event is None else set())),
                "uploaded_at": iso_ms(self.uploaded_at), "at": iso_ms(self.at)}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> QuarantineRecord:
        return cls.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})

    def report(self) -> dict[str, Any]:
        return {**self.model_dump(exclude={"at", "uploaded_at"}), "uploaded_at": iso_ms(self.uploaded_at),
                "at": iso_ms(self.at)}


class UploadLog:
    def __init__(self, table: str, dynamodb: Any) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Put unless an item with this key exists; returns whether it was written."""
        try:
            self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(item),
                                   ConditionExpression="attribute_not_exists(pk)")
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def state(self, oid: str) -> UploadState | None:
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo({"pk": f"UPLOAD#{oid}", "sk": "STATE"}),
                                      ConsistentRead=True)
        return UploadState.from_item(from_dynamo(resp["Item"])) if "Item" in resp else None

    def claim(self, state: UploadState) -> UploadState:
        """Record a pending registration; if the object was claimed before, return that claim instead."""
        if self._put_new(state.to_item()):
            return state
        existing = self.state(state.id)
        if existing is None:  # cannot happen: the condition failed because the item exists
            raise RuntimeError(f"upload {state.id} was claimed and then disappeared")
        return existing

    def registered(self, claim: UploadState) -> UploadState:
        done = claim.model_copy(update={"state": "registered"})
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(done.to_item()))
        return done

    def quarantined(self, record: QuarantineRecord) -> QuarantineRecord:
        """Store the quarantine record (the first one wins) and mark the object done."""
        if not self._put_new(record.to_item()):
            resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo({"pk": QUARANTINE_PK, "sk": record.id}),
                                          ConsistentRead=True)
            record = QuarantineRecord.from_item(from_dynamo(resp["Item"]))
        state = UploadState(id=record.id, bucket=record.bucket, key=record.key, identity=record.identity,
                            state="quarantined", reason=record.reason, at=record.at)
        self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(state.to_item()))
        return record

    # -- listing, for people ----------------------------------------------------------------------
    def failed(self) -> list[QuarantineRecord]:
        """Every quarantined upload, oldest first: one Query (paged)."""
        out = [QuarantineRecord.from_item(i) for i in paginate(self.dynamodb, "query", {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": QUARANTINE_PK}}, "ConsistentRead": True})]
        out.sort(key=lambda r: (r.at, r.id))
        return out

    def all(self) -> list[UploadState]:
        """Every upload's state, oldest first (a Scan: for people, never on an event path)."""
        out = [UploadState.from_item(i) for i in paginate(self.dynamodb, "scan", {
            "TableName": self.table, "FilterExpression": "begins_with(pk, :p)",
            "ExpressionAttributeValues": {":p": {"S": "UPLOAD#"}}})]
        out.sort(key=lambda s: (s.at, s.id))
        return out
