"""The trigger's dead-letter queue: list what landed there, and re-drive it through the trigger.

A message is Lambda's on-failure record of a stream batch (chalicelib/events/failure.py). Re-driving reads
the batch back from the stream (GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords up to the last
sequence number), rebuilds the event Lambda delivers, and invokes the same trigger function with it. The
message is deleted only when every record succeeded; otherwise it is released and stays for the next try.
Re-driving twice is harmless: the trigger starts at most one run per (version, launch plan).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Literal

from pydantic import BaseModel

from chalicelib.aws import error_code
from chalicelib.errors import CascadeError, DeadLetterError
from chalicelib.events.failure import StreamBatchInfo, StreamFailureRecord, parse_failure_record
from chalicelib.events.stream import version_from_record

MAX_EMPTY_PAGES = 5  # GetRecords may return empty pages at a shard's open end; stop after this many
HIDE_SECONDS = 60  # how long a message stays invisible to others while it is being listed or re-driven


class DeadLetter(BaseModel):
    message_id: str
    receipt_handle: str
    receive_count: int
    body: str
    record: StreamFailureRecord | None = None
    error: str | None = None  # why the body is not an on-failure record


class RecordView(BaseModel):
    sequence_number: str
    event_name: str | None
    artifact: str | None = None
    version: str | None = None
    error: str | None = None  # the error the trigger raises for this record, by class and message


class RedriveResult(BaseModel):
    message_id: str
    outcome: Literal["redriven", "failed", "expired", "unreadable", "dry_run"]
    records: int = 0
    failed: list[str] = []  # sequence numbers the trigger reported as failed again
    detail: str | None = None


# -- the stream ---------------------------------------------------------------------------------------
def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record in the shape the event source mapping hands to Lambda."""
    body = dict(record.get("dynamodb", {}))
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = int(created.timestamp())
    out = {k: v for k, v in record.items() if k not in ("dynamodb", "userIdentity")}
    out["dynamodb"] = body
    out["eventSourceARN"] = stream_arn
    return out


def read_batch(streams: Any, batch: StreamBatchInfo) -> list[dict[str, Any]]:
    """The records of a failed batch, read back from the stream: sequence numbers start..end inclusive."""
    start, end = int(batch.start_sequence_number), int(batch.end_sequence_number)
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=batch.stream_arn, ShardId=batch.shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch.start_sequence_number,
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        empty = 0
        while iterator and empty < MAX_EMPTY_PAGES:
            resp = streams.get_records(ShardIterator=iterator, Limit=1000)
            page = resp.get("Records", [])
            empty = 0 if page else empty + 1
            for record in page:
                seq = int(record["dynamodb"]["SequenceNumber"])
                if seq > end:
                    return records
                if seq >= start:
                    records.append(lambda_record(record, batch.stream_arn))
                if seq == end:
                    return records
            iterator = resp.get("NextShardIterator")
        return records
    except Exception as exc:
        code = error_code(exc)
        if code in ("TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"):
            raise DeadLetterError(
                f"records {batch.start_sequence_number}..{batch.end_sequence_number} of shard {batch.shard_id} "
                f"are no longer in the stream ({code}); streams keep records 24 hours. Find the versions with "
                f"`artifacts` and start their launch plans by hand"
            ) from exc
        raise


def view(record: dict[str, Any]) -> RecordView:
    """What the trigger makes of one record: its artifact version, or the named error it raises."""
    seq = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
    try:
        version = version_from_record(record)
    except CascadeError as exc:
        return RecordView(sequence_number=seq, event_name=record.get("eventName"), error=f"{type(exc).__name__}: {exc}")
    if version is None:
        return RecordView(sequence_number=seq, event_name=record.get("eventName"))
    return RecordView(sequence_number=seq, event_name=record.get("eventName"), artifact=version.name,
                      version=version.version)


# -- the queue ----------------------------------------------------------------------------------------
class DeadLetterQueue:
    def __init__(self, sqs: Any, queue: str) -> None:
        self.sqs = sqs
        self.url = queue if queue.startswith(("https://", "http://")) else sqs.get_queue_url(QueueName=queue)["QueueUrl"]

    def receive(self, limit: int = 100) -> list[DeadLetter]:
        """Up to `limit` messages, each hidden from other readers until deleted or released."""
        letters: list[DeadLetter] = []
        while len(letters) < limit:
            resp = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=min(10, limit - len(letters)),
                VisibilityTimeout=HIDE_SECONDS, WaitTimeSeconds=0, AttributeNames=["ApproximateReceiveCount"],
            )
            messages = resp.get("Messages", [])
            if not messages:
                return letters
            for m in messages:
                letter = DeadLetter(message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"], body=m["Body"],
                                    receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)))
                try:
                    letter.record = parse_failure_record(m["Body"])
                except CascadeError as exc:
                    letter.error = str(exc)
                letters.append(letter)
        return letters

    def release(self, letters: list[DeadLetter]) -> None:
        """Make messages visible again at once."""
        for i in range(0, len(letters), 10):
            chunk = letters[i:i + 10]
            self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=[
                {"Id": str(n), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                for n, letter in enumerate(chunk)
            ])

    def delete(self, letter: DeadLetter) -> None:
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=letter.receipt_handle)


def list_letters(queue: DeadLetterQueue, limit: int = 100) -> list[DeadLetter]:
    """The messages in the queue, left in place."""
    letters = queue.receive(limit)
    queue.release(letters)
    return letters


def age(letter: DeadLetter, now: datetime | None = None) -> float | None:
    """Seconds since the batch's first record reached the stream."""
    if letter.record is None or letter.record.batch.approximate_arrival_of_first_record is None:
        return None
    now = now or datetime.now(timezone.utc)
    return (now - letter.record.batch.approximate_arrival_of_first_record).total_seconds()


def lambda_invoker(lam: Any) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """Invoke a function synchronously; a function error counts as every record failed."""
    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        resp = lam.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode())
        payload = json.loads(resp["Payload"].read() or b"null")
        if resp.get("FunctionError"):
            ids = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
            return {"batchItemFailures": [{"itemIdentifier": i} for i in ids], "functionError": payload}
        return payload or {}
    return invoke


def redrive(queue: DeadLetterQueue, streams: Any, invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
            function: str | None = None, limit: int = 100, dry_run: bool = False) -> list[RedriveResult]:
    """Feed every dead-lettered batch through the trigger function again (the one named in the record,
    unless `function` is given). Successful messages are deleted; the others stay in the queue."""
    results: list[RedriveResult] = []
    letters = queue.receive(limit)
    try:
        for letter in letters:
            results.append(_redrive_one(queue, streams, invoke, letter, function, dry_run))
    finally:
        queue.release([letter for letter, r in zip(letters, results) if r.outcome != "redriven"]
                      + letters[len(results):])
    return results


def _redrive_one(queue: DeadLetterQueue, streams: Any, invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
                 letter: DeadLetter, function: str | None, dry_run: bool) -> RedriveResult:
    if letter.record is None:
        return RedriveResult(message_id=letter.message_id, outcome="unreadable", detail=letter.error)
    try:
        records = read_batch(streams, letter.record.batch)
    except DeadLetterError as exc:
        return RedriveResult(message_id=letter.message_id, outcome="expired", detail=str(exc))
    if dry_run:
        return RedriveResult(message_id=letter.message_id, outcome="dry_run", records=len(records))
    if not records:
        return RedriveResult(message_id=letter.message_id, outcome="expired",
                             detail="no records in the stream at the recorded sequence numbers")
    response = invoke(function or letter.record.request_context.function_arn, {"Records": records})
    failed = [str(f["itemIdentifier"]) for f in (response or {}).get("batchItemFailures", [])]
    if failed:
        return RedriveResult(message_id=letter.message_id, outcome="failed", records=len(records), failed=failed,
                             detail="the trigger reported these records as failed again; see its logs")
    queue.delete(letter)
    return RedriveResult(message_id=letter.message_id, outcome="redriven", records=len(records))
