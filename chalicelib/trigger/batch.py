"""Partial batch responses for DynamoDB stream events (ReportBatchItemFailures).

A record that raises is reported alone, by its sequence number: Lambda checkpoints the records before the
first failure and retries from there, so one bad record neither blocks nor replays the others. When every
record failed, the invocation fails, so the event source mapping's retry and bisect settings apply.

Same contract as powertools' `BatchProcessor` with `process_partial_response`, which this replaces on the
trigger's cold path: importing powertools' batch utility costs asyncio and every event class, and when
pydantic is already loaded it also builds all of powertools' pydantic event models (over 100 ms).

Which failures are reported: every failed record, by its sequence number, in stream order, whether records
ran one by one or concurrently (chalicelib.trigger.pool); Lambda resumes from the lowest of them.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from chalicelib.errors import CascadeError, EventError
from chalicelib.events.stream import DynamoDBRecord
from chalicelib.trigger.pool import Pool


class BatchFailedError(CascadeError):
    """Every record of a stream batch failed; the whole batch is retried."""

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(
            f"all {len(errors)} records of the stream batch failed; the first with {type(first).__name__}: {first}"
        )


def item_key(raw: Any) -> str | None:
    """The DynamoDB item a stream record is about (its `Keys`), None if the record does not say."""
    body = raw.get("dynamodb") if isinstance(raw, dict) else None
    keys = body.get("Keys") if isinstance(body, dict) else None
    return json.dumps(keys, sort_keys=True) if isinstance(keys, dict) and keys else None


def by_item(records: list[Any]) -> list[list[int]]:
    """Record positions grouped by item, each group in stream order; groups ordered by their first record."""
    groups: dict[Any, list[int]] = {}
    for i, raw in enumerate(records):
        groups.setdefault(item_key(raw) or ("record", i), []).append(i)
    return list(groups.values())


def process_stream_batch(event: dict[str, Any], record_handler: Callable[[DynamoDBRecord], Any],
                         raise_on_entire_batch_failure: bool = True, pool: Pool | None = None) -> dict[str, Any]:
    """Call `record_handler` on each record; returns `{"batchItemFailures": [...]}`, failures in stream order.

    With a `pool`, records of different items are handled concurrently; the records of one item are handled
    one after another, in stream order, as the stream delivers them. Every record is handled either way."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        keys = sorted(event) if isinstance(event, dict) else type(event).__name__
        raise EventError(f"stream event has no Records list (got {keys}); expected a DynamoDB stream event")
    outcome: list[BaseException | None] = [None] * len(records)

    def handle_item(positions: list[int]) -> None:
        for i in positions:
            try:
                record_handler(DynamoDBRecord(records[i]))
            except Exception as exc:
                outcome[i] = exc

    groups = by_item(records)
    if pool is None:
        for group in groups:
            handle_item(group)
    else:
        for _, exc in pool.map(handle_item, groups):
            if exc is not None:  # handle_item keeps each record's error; this is a bug in it
                raise exc
    failures: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    for raw, exc in zip(records, outcome):
        if exc is None:
            continue
        errors.append(exc)
        body = raw.get("dynamodb") if isinstance(raw, dict) else None
        failures.append({"itemIdentifier": body.get("SequenceNumber") if isinstance(body, dict) else None})
    if errors and len(errors) == len(records) and raise_on_entire_batch_failure:
        raise BatchFailedError(errors) from errors[0]
    return {"batchItemFailures": failures}
