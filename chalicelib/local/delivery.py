"""Deliver stream records the way an event source mapping does on a bad day, and count what got started.

Used by the property-based delivery test and benchmarks/faults.py. `deliver` hands the trigger function every
record 1-3 times, in shuffled batches; a record the function reports as failed comes back together with the
rest of its batch after it (Lambda resumes from the lowest failed sequence number), and a simulated timeout
kills an invocation part-way and redelivers its whole batch. Delivery ends when every copy has been accepted.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any, Callable

from pydantic import BaseModel

from chalicelib.ops.dlq import lambda_record

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


class DeliveryStats(BaseModel):
    records: int = 0  # distinct records
    deliveries: int = 0  # record deliveries to the function, duplicates and retries included
    invocations: int = 0
    reported_failures: int = 0  # records the function reported as failed (then redelivered)
    timeouts: int = 0  # invocations killed part-way (their batch redelivered whole)

    def add(self, other: DeliveryStats) -> None:
        for field in type(self).model_fields:
            setattr(self, field, getattr(self, field) + getattr(other, field))


def read_stream(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every record retained in the stream, oldest first, in the shape Lambda delivers."""
    out: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            resp = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not resp.get("Records"):
                break
            out.extend(lambda_record(r, stream_arn) for r in resp["Records"])
            iterator = resp.get("NextShardIterator")
    return out


def _seq(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def deliver(records: list[dict[str, Any]], invoke: Invoke, rng: random.Random, max_copies: int = 3,
           max_batch: int = 10, timeout_rate: float = 0.0, max_invocations: int = 100_000) -> DeliveryStats:
    stats = DeliveryStats(records=len(records))
    queue = [r for r in records for _ in range(rng.randint(1, max_copies))]
    rng.shuffle(queue)
    while queue:
        if stats.invocations >= max_invocations:
            raise RuntimeError(f"records still failing after {max_invocations} invocations")
        size = rng.randint(1, max_batch)
        batch, queue = queue[:size], queue[size:]
        stats.invocations += 1
        if rng.random() < timeout_rate:
            done = rng.randint(0, len(batch))
            if done:
                invoke({"Records": batch[:done]})
                stats.deliveries += done
            stats.timeouts += 1
            queue[rng.randint(0, len(queue)):0] = batch
            continue
        response = invoke({"Records": batch}) or {}
        stats.deliveries += len(batch)
        failed = {str(f["itemIdentifier"]) for f in response.get("batchItemFailures", [])}
        if failed:
            stats.reported_failures += len(failed)
            first = min(i for i, r in enumerate(batch) if _seq(r) in failed)
            queue[rng.randint(0, len(queue)):0] = batch[first:]
    return stats


def started_runs(sfn: Any, prefix: str, versions: set[str]) -> Counter[tuple[str, str, str]]:
    """How many executions each (artifact, version, launch plan) started, for the given versions."""
    runs: Counter[tuple[str, str, str]] = Counter()
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            if not sm["name"].startswith(prefix):
                continue
            for epage in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                for ex in epage["executions"]:
                    meta = json.loads(sfn.describe_execution(executionArn=ex["executionArn"]).get("input") or "{}")
                    trig = (meta.get("meta") or {}).get("triggered_by") or {}
                    if trig.get("version") in versions:
                        runs[(trig["artifact"], trig["version"], meta["meta"].get("launch_plan"))] += 1
    return runs
