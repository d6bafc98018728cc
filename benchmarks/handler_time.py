"""(2) Trigger handler time per record, its pure decision step, and batch throughput; in-process, AWS calls to moto.

The registry holds 100 launch plans; one listens to the written artifact and partitions (a one-state Pass
machine, so started runs end at once). Records are real-shaped stream events of versions in the table.
Baseline: the same trigger with a subscription scan per record (benchmarks/baselines.py).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks import flows
from benchmarks.baselines import scanning_trigger
from benchmarks.common import (
    CallCounter, Report, emit, make_versions, new_client, parser, seed_versions, silenced,
    stream_event, summary_ms,
)
from chalicelib import aws
from chalicelib.events.stream import version_from_record
from chalicelib.local.cloud import LocalCloud
from chalicelib.store.models import Subscription
from chalicelib.trigger.batch import process_stream_batch
from chalicelib.trigger.decide import decide
from chalicelib.trigger.handler import Trigger, default_trigger

PLANS = 100
RECORDS = 200
BATCHES = [(1, RECORDS), (100, 3), (1_000, 1)]  # (records per batch, batches)
BASELINE_MAX_BATCH = 100  # a batch of 1,000 scans would take the baseline minutes; its per-record rate is flat
PURE_ROUNDS = 2_000
DECIDE_GOAL_MS = 1.0


class PerRecordLookup(Trigger):
    """Ours without the batch-wide subscription lookup: a Query for every record (isolates that change)."""

    def __init__(self, inner: Trigger) -> None:
        super().__init__(inner.registry, inner.sfn)

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return process_stream_batch(event, self.on_record)


def run() -> Report:
    report = Report("handler_time", f"trigger handler per record and per batch ({PLANS} launch plans, 1 matching)")
    with LocalCloud() as cloud, silenced():
        s = cloud.settings
        flows.register(cloud, flows.definitions(PLANS - 1, matching=False))
        flows.register_pass_plan(cloud)
        total = RECORDS * 2 + sum(size * count for size, count in BATCHES[1:]) * 3 + 10
        print(f"  seeding {total:,} versions ...", file=sys.stderr, flush=True)
        versions = make_versions(flows.Events.name, total, flows.PARTITIONS)
        seed_versions(cloud, versions)
        pool = iter(versions)
        arn = cloud.outputs["ArtifactsStreamArn"]

        ours = default_trigger()
        ours_calls = CallCounter(aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region))
        n_ddb, n_sfn = new_client("dynamodb", s.region), new_client("stepfunctions", s.region)
        naive = scanning_trigger(s, n_ddb, n_sfn)
        naive_calls = CallCounter(n_ddb, n_sfn)
        per_record = PerRecordLookup(ours)

        def timed(trigger: Trigger, counter: CallCounter, size: int) -> tuple[float, float]:
            event = stream_event([next(pool) for _ in range(size)], arn)
            with counter:
                t0 = time.perf_counter()
                result = trigger.handle(event)
                elapsed = time.perf_counter() - t0
            aws_s = counter.seconds()
            counter.reset()
            if result["batchItemFailures"]:
                raise RuntimeError(f"the benchmark's records failed: {result['batchItemFailures'][:3]}")
            cloud.wait_quiet()
            return elapsed, aws_s

        # -- per record (batches of one), ours and baseline interleaved -----------------------------------
        print(f"  {RECORDS} records one by one ...", file=sys.stderr, flush=True)
        samples: dict[str, list[tuple[float, float]]] = {"ours": [], "baseline": []}
        for _ in range(RECORDS):
            samples["ours"].append(timed(ours, ours_calls, 1))
            samples["baseline"].append(timed(naive, naive_calls, 1))
        per = report.table(f"time per record, batches of 1 ({RECORDS} records each), ms",
                           "handler", "p50", "p95", "AWS calls p50", "our code p50", "our code p95")
        p50 = {}
        for name, rows in samples.items():
            whole = summary_ms([e for e, _ in rows])
            calls = summary_ms([a for _, a in rows])
            own = summary_ms([e - a for e, a in rows])
            p50[name] = whole["p50_ms"]
            per.add(f"{name}: whole handler", whole["p50_ms"], whole["p95_ms"], calls["p50_ms"], own["p50_ms"],
                    own["p95_ms"])

        # -- the pure steps --------------------------------------------------------------------------------
        record = stream_event([next(pool)], arn)["Records"][0]
        version = version_from_record(record)
        assert version is not None
        one = ours.registry.subscriptions_for(version.name)
        crowd = one + [Subscription(artifact=version.name, launch_plan=f"lp_{i}", lp_version="1", workflow="wf",
                                    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:x",
                                    filter={"key1": f"other_{i}"}) for i in range(PLANS - 1)]
        pure = report.table(f"pure steps ({PURE_ROUNDS:,} rounds each), ms per record", "step", "p50", "p95")

        def rounds(fn: Any) -> dict[str, float]:
            out = []
            for _ in range(PURE_ROUNDS):
                t0 = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t0)
            return summary_ms(out)

        parse = rounds(lambda: version_from_record(record))
        pure.add("parse the stream record", parse["p50_ms"], parse["p95_ms"])
        d1 = rounds(lambda: decide(version, one))
        pure.add(f"decide, {len(one)} subscription of the artifact", d1["p50_ms"], d1["p95_ms"])
        d100 = rounds(lambda: decide(version, crowd))
        pure.add(f"decide, {len(crowd)} subscriptions of the artifact (1 matches)", d100["p50_ms"], d100["p95_ms"])

        # -- throughput ---------------------------------------------------------------------------------------
        thr = report.table("throughput, records per second", "batch size", "ours", "ours, Query per record",
                           "baseline", "ours/baseline")
        for size, count in BATCHES:
            if size == 1:
                rates = {k: 1 / (sum(e for e, _ in v) / len(v)) for k, v in samples.items()}
                rates["per_record"] = rates["ours"]
            else:
                print(f"  {count} batch(es) of {size:,} ...", file=sys.stderr, flush=True)
                kinds = [("ours", ours, ours_calls), ("per_record", per_record, ours_calls)]
                if size <= BASELINE_MAX_BATCH:
                    kinds.append(("baseline", naive, naive_calls))
                spent = {name: 0.0 for name, _, _ in kinds}
                for _ in range(count):
                    for name, trigger, counter in kinds:
                        spent[name] += timed(trigger, counter, size)[0]
                rates = {k: size * count / v for k, v in spent.items()}
            base = rates.get("baseline")
            thr.add(size, round(rates["ours"], 1), round(rates["per_record"], 1), round(base, 1) if base else None,
                    round(rates["ours"] / base, 2) if base else None)

    report.goal(f"decide under {DECIDE_GOAL_MS} ms per record (p95, {len(crowd)} subscriptions)",
                d100["p95_ms"] < DECIDE_GOAL_MS, f"{d100['p95_ms']} ms")
    report.goal("whole handler per record no slower than the baseline (p50)", p50["ours"] <= p50["baseline"],
                f"{p50['ours']} vs {p50['baseline']} ms, ratio {round(p50['ours'] / p50['baseline'], 2)}")
    report.notes.append("AWS calls = time inside boto3 calls to moto (botocore + moto); our code = the rest")
    report.notes.append(f"the baseline is not run on batches over {BASELINE_MAX_BATCH} records (minutes of scans)")
    return report


def main(argv: list[str] | None = None) -> Any:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    emit(run(), args.json)


if __name__ == "__main__":
    main()
