"""(claims) The start claim as matching launch plans grow: AWS calls and time per artifact event.

Ours: the trigger (chalicelib.trigger.handler.Trigger) with the start ledger of chalicelib.store.claims, given
the stream record of a new version of one artifact that 1 / 10 / 100 / 1,000 / 5,000 active launch plans
listen to; then the same record again (a redelivery). Baseline, measured in the same run on the same
subscriptions: the same trigger with the former ledger, which kept every run request of a version in one
item capped at 350,000 bytes (so past about 870 such launch plans every version fails).

The launch plans' subscriptions point at a one-state Pass machine (`benchmarks.flows.register_pass_plan`'s
kind), so the figures are about claiming and starting runs, not about running them.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from benchmarks import flows
from benchmarks.common import (
    CallCounter, Report, emit, new_client, parser, seed_versions, silenced, stream_event,
)
from chalicelib.aws import error_code
from chalicelib.errors import OversizeInputError
from chalicelib.local.cloud import LocalCloud
from chalicelib.store.claims import ITEM_LIMIT, StartLedger, claim_key
from chalicelib.store.dynamo import from_dynamo, to_dynamo
from chalicelib.store.index import ArtifactIndex
from chalicelib.store.models import ArtifactVersion, Subscription, iso_ms, make_version
from chalicelib.store.registry import Registry
from chalicelib.trigger.align import Aligner
from chalicelib.trigger.batch import BatchFailedError
from chalicelib.trigger.handler import Trigger

PLANS = [1, 10, 100, 1_000, 5_000]
START = "stepfunctions.StartExecution"


class SingleItemLedger(StartLedger):
    """The baseline: the ledger as it was, every run request of a version in one item (inputs included)."""

    MAX_CLAIM_BYTES = 350_000

    def claim(self, artifact: str, version: str, requests: list[dict[str, Any]], now: datetime | None = None) -> Any:
        from chalicelib.store.claims import Claim

        now = now or datetime.now(timezone.utc)
        doc = json.dumps(requests, separators=(",", ":"))
        if len(doc.encode()) > self.MAX_CLAIM_BYTES:
            raise OversizeInputError(f"{len(doc.encode())} bytes of run requests > {self.MAX_CLAIM_BYTES}")
        item = {**claim_key(artifact, version), "artifact": artifact, "version": version,
                "claimed_at": iso_ms(now), "expires_at": int((now + timedelta(days=90)).timestamp()), "requests": doc}
        try:
            self.dynamodb.put_item(TableName=self.table, Item=to_dynamo(item),
                                   ConditionExpression="attribute_not_exists(pk)",
                                   ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            old = from_dynamo(exc.response["Item"])  # type: ignore[attr-defined]
            return Claim(artifact=artifact, version=version, first=False, claimed_at=old["claimed_at"],
                         requests=json.loads(old["requests"]))
        return Claim(artifact=artifact, version=version, first=True, claimed_at=now, requests=requests,
                     new=[r["launch_plan"] for r in requests])


class Bench:
    def __init__(self, cloud: LocalCloud, pass_arn: str) -> None:
        self.cloud = cloud
        s = cloud.settings
        self.ddb, self.sfn = new_client("dynamodb", s.region), new_client("stepfunctions", s.region)
        self.registry = Registry(s, self.ddb)
        aligner = Aligner(ArtifactIndex.of(self.ddb, s))
        self.ours = Trigger(self.registry, self.sfn, aligner, ledger=StartLedger(s.registry_table, self.ddb))
        self.baseline = Trigger(self.registry, self.sfn, aligner, ledger=SingleItemLedger(s.registry_table, self.ddb))
        self.calls = CallCounter(self.ddb, self.sfn)
        self.pass_arn = pass_arn
        self.subscribed = 0
        self.serial = 0
        self.writer = new_client("dynamodb", s.region)

    def subscribe(self, total: int) -> None:
        """Active launch plans listening to Events in PARTITIONS, up to `total` (subscription items as
        registration writes them, onto the Pass machine)."""
        for i in range(self.subscribed, total):
            self.registry.put_subscription(Subscription(
                artifact=flows.Events.name, launch_plan=f"bench_claim_lp_{i:05d}", lp_version=f"{i:012x}",
                workflow="benchmarks.flows.pass", state_machine_arn=self.pass_arn, filter=dict(flows.PARTITIONS)))
        self.subscribed = max(self.subscribed, total)

    def new_version(self) -> dict[str, Any]:
        """A version item written with the stream mapping paused; its stream record, as Lambda sends it."""
        self.serial += 1
        made = datetime(2031, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.serial)
        v = ArtifactVersion(name=flows.Events.name, version=make_version(made, "bench-claims", str(self.serial)),
                            partitions=dict(flows.PARTITIONS), uri="s3://unused", format="json", created_at=made)
        seed_versions(self.cloud, [v], self.writer)
        return stream_event([v], self.cloud.outputs["ArtifactsStreamArn"])

    def deliver(self, trigger: Trigger, event: dict[str, Any]) -> tuple[dict[str, int], float, float, str]:
        """One delivery: the calls by operation, seconds in all, seconds in claim writes (PutItem and
        BatchWriteItem), and 'ok' or 'record failed'."""
        self.calls.reset()
        with self.calls, silenced():
            t0 = time.perf_counter()
            try:
                failed = trigger.handle(event)["batchItemFailures"]
            except BatchFailedError:  # every record of the batch failed (Lambda retries the whole batch)
                failed = event["Records"]
            seconds = time.perf_counter() - t0
        claim = sum(c.seconds for c in self.calls.select() if c.operation in ("PutItem", "BatchWriteItem"))
        self.cloud.wait_quiet(600)
        return self.calls.counts(), seconds, claim, "ok" if not failed else "record failed"

    def claim_size(self, event: dict[str, Any]) -> tuple[int, int]:
        """(items, largest item in bytes) of the claim of the event's version."""
        image = from_dynamo(event["Records"][0]["dynamodb"]["NewImage"])
        pk = claim_key(image["name"], image["version"])["pk"]
        items = self.writer.query(TableName=self.cloud.settings.registry_table, KeyConditionExpression="pk = :pk",
                                  ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True)["Items"]
        sizes = [sum(len(k.encode()) + (len(v["B"]) if "B" in v else len(str(next(iter(v.values()))).encode()))
                     for k, v in i.items()) for i in items]
        return len(items), max(sizes, default=0)

    def executions(self) -> int:
        return sum(len(p["executions"]) for p in
                   self.sfn.get_paginator("list_executions").paginate(stateMachineArn=self.pass_arn))


def breakdown(counts: dict[str, int]) -> str:
    return ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in counts.items() if k != START) or "-"


def run() -> Report:
    report = Report("claims", "the start claim with 1 to 5,000 launch plans on one artifact: calls and time per event")
    table = report.table(
        "per stream record; 'again' is a redelivery of the same record. Calls besides StartExecution (one per "
        "launch plan in every row); Query = the subscriptions Query, one page per MB",
        "launch plans", "ours: first", "s", "claim s", "again", "s", "claim items", "largest B",
        "baseline: first", "s", "claim s", "again", "s",
    )
    ok_runs, same_reads, within = True, True, True
    claim_writes: set[tuple[tuple[str, int], ...]] = set()
    with LocalCloud() as cloud:
        s = cloud.settings
        pass_arn = new_client("stepfunctions", s.region).create_state_machine(
            name=f"{s.prefix}bench-claims-pass", roleArn=cloud.states_role_arn,
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        )["stateMachineArn"]
        bench = Bench(cloud, pass_arn)
        expected = 0
        for n in PLANS:
            print(f"  {n:,} launch plans ...", file=sys.stderr, flush=True)
            bench.subscribe(n)
            event = bench.new_version()
            first, t_first, c_first, ok1 = bench.deliver(bench.ours, event)
            again, t_again, _, ok2 = bench.deliver(bench.ours, event)
            expected += n
            items, largest = bench.claim_size(event)
            ok_runs &= ok1 == ok2 == "ok" and first.get(START) == n == again.get(START) and bench.executions() == expected
            for counts in (first, again):
                claim_writes.add(tuple(sorted((k, v) for k, v in counts.items() if k not in (START, "dynamodb.Query"))))
            within &= largest < ITEM_LIMIT

            base_event = bench.new_version()
            b_first, tb_first, cb_first, okb1 = bench.deliver(bench.baseline, base_event)
            # the subscriptions Query is the same call in both; ours reads nothing else
            same_reads &= first.get("dynamodb.Query") == again.get("dynamodb.Query") == b_first.get("dynamodb.Query")
            if okb1 == "ok":
                b_again, tb_again, _, _ = bench.deliver(bench.baseline, base_event)
                expected += n
                base = [breakdown(b_first), round(tb_first, 3), round(cb_first, 4), breakdown(b_again),
                        round(tb_again, 3)]
            else:
                base = ["fails: over 350,000 B", round(tb_first, 3), None, "fails", None]
            table.add(n, breakdown(first), round(t_first, 3), round(c_first, 4), breakdown(again), round(t_again, 3),
                      items, largest, *base)
    report.goal("every launch plan started exactly once per version, first delivery and redelivery alike",
                ok_runs, f"{sum(PLANS):,} launch plans, {expected:,} runs checked")
    report.goal("claim: one PutItem per record, first delivery and redelivery, at every size",
                claim_writes == {(("dynamodb.PutItem", 1),)}, "; ".join(str(dict(c)) for c in sorted(claim_writes)))
    report.goal("no read besides the subscriptions Query (the same pages as the baseline's)", same_reads,
                "ours = baseline" if same_reads else "ours read more")
    report.goal("every claim item under DynamoDB's 400 KB", within, f"{ITEM_LIMIT:,} bytes")
    report.notes.append("s = wall time of the trigger handler for the record on moto, StartExecutions included; "
                        "claim s = the time of its claim writes")
    report.notes.append("past about 10,000 such launch plans an entry spills into part items: +1 BatchWriteItem "
                        "per 25 parts (tests/integration/test_claims_scale.py covers that path)")
    return report


def main(argv: list[str] | None = None) -> Any:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    emit(run(), args.json)


if __name__ == "__main__":
    main()
