"""Partial batch responses for DynamoDB stream events (ReportBatchItemFailures).

A record that raises is reported alone, by its sequence number: Lambda checkpoints the records before the
first failure and retries from there, so one bad record neither blocks nor replays the others. When every
record failed, the invocation fails, so the event source mapping's retry and bisect settings apply.

Same contract as powertools' `BatchProcessor` with `process_partial_response`, which this replaces on the
trigger's cold path: importing powertools' batch utility costs asyncio and every event class, and when
pydantic is already loaded it also builds all of powertools' pydantic event models (over 100 ms).
"""

from __future__ import annotations

from typing import Any, Callable

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib.errors import CascadeError, EventError


class BatchFailedError(CascadeError):
    """Every record of a stream batch failed; the whole batch is retried."""

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(
            f"all {len(errors)} records of the stream batch failed; the first with {type(first).__name__}: {first}"
        )


def process_stream_batch(event: dict[str, Any], record_handler: Callable[[DynamoDBRecord], Any],
                         raise_on_entire_batch_failure: bool = True) -> dict[str, Any]:
    """Call `record_handler` on each record, in order; returns `{"batchItemFailures": [...]}`."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        keys = sorted(event) if isinstance(event, dict) else type(event).__name__
        raise EventError(f"stream event has no Records list (got {keys}); expected a DynamoDB stream event")
    failures: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    for raw in records:
        record = DynamoDBRecord(raw)
        try:
            record_handler(record)
        except Exception as exc:
            errors.append(exc)
            body = raw.get("dynamodb") if isinstance(raw, dict) else None
            failures.append({"itemIdentifier": body.get("SequenceNumber") if isinstance(body, dict) else None})
    if errors and len(errors) == len(records) and raise_on_entire_batch_failure:
        raise BatchFailedError(errors) from errors[0]
    return {"batchItemFailures": failures}
