"""The upload dead-letter queue: what `uploads --failed` shows besides the quarantine records.

S3 invokes the upload function asynchronously. When an invocation keeps failing (an AWS error on some
object, raised so that Lambda retries), Lambda gives up after MaximumRetryAttempts and sends its on-failure
record to the function's destination, the queue named by the infra stack's output UploadDlqUrl (Settings.upload_dlq_url)
(chalicelib/deploy/wiring.py sets it). The record carries the whole event (`requestPayload`) and the error
(`responsePayload`); each S3 record of the event is listed as one failed upload with reason `dead_letter`.
Putting the object again (or re-invoking the function with the event) processes it; the handler is idempotent.

Listing hides each message for a moment while reading and then makes it visible again: nothing is deleted.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.events.failure import FailureRequestContext, FailureResponseContext
from chalicelib.events.s3 import notification
from chalicelib.store.models import iso_ms
from chalicelib.uploads.errors import Reason

HIDE_SECONDS = 30
RAW_LIMIT = 8192


class AsyncFailureRecord(BaseModel):
    """Lambda's on-failure record of an asynchronous invocation."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    timestamp: datetime
    request_context: FailureRequestContext = Field(alias="requestContext")
    request_payload: Any = Field(default=None, alias="requestPayload")
    response_context: FailureResponseContext | None = Field(default=None, alias="responseContext")
    response_payload: Any = Field(default=None, alias="responsePayload")


def entries(message_id: str, body: str) -> list[dict[str, Any]]:
    """One failed-upload entry (the shape of QuarantineRecord.report()) per S3 record of a dead letter. Pure."""
    base = {"bucket": "", "key": "", "identity": "", "size": 0, "reason": Reason.DEAD_LETTER.value,
            "quarantine_key": None, "event": body[:RAW_LIMIT]}
    try:
        failure = AsyncFailureRecord.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        now = iso_ms(datetime.now(timezone.utc))
        return [{**base, "id": f"dlq:{message_id}", "uploaded_at": now, "at": now,
                 "message": f"dead-letter message {message_id} is not Lambda's on-failure record: {exc}"}]
    error = failure.response_payload if isinstance(failure.response_payload, dict) else {}
    ctx = failure.request_context
    message = (f"{ctx.condition} after {ctx.approximate_invoke_count} attempt(s): "
               f"{error.get('errorType', 'error')}: {error.get('errorMessage', failure.response_payload)}. "
               f"Put the object again once the cause is fixed (message {message_id} in the upload dead-letter queue)")
    at = iso_ms(failure.timestamp)
    note = notification(failure.request_payload)
    if not note.created:
        return [{**base, "id": f"dlq:{message_id}", "uploaded_at": at, "at": at, "message": message}]
    return [{**base, "id": f"dlq:{message_id}:{i}", "bucket": obj.bucket, "key": obj.key, "identity": obj.identity,
             "size": obj.size, "uploaded_at": iso_ms(obj.event_time), "at": at, "message": message,
             "event": json.dumps(failure.request_payload["Records"][i])[:RAW_LIMIT]}
            for i, obj in note.created]


def list_dead_letters(sqs: Any, url: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Every upload the dead-letter queue holds (up to `limit` messages), oldest first; nothing is deleted."""
    seen: dict[str, str] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, limit - len(seen)),
                                       VisibilityTimeout=HIDE_SECONDS, WaitTimeSeconds=0)
            messages = resp.get("Messages", [])
            if not messages:
                break
            for m in messages:
                seen.setdefault(m["MessageId"], m["Body"])
                handles.append(m["ReceiptHandle"])
    finally:
        for handle in handles:  # visible again for the next reader
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    out = [e for mid, body in seen.items() for e in entries(mid, body)]
    out.sort(key=lambda e: (e["at"], e["id"]))
    return out
