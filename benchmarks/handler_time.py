"""(2) Trigger handler time per record, its pure decision step, and batch throughput; in-process, AWS calls to moto.

The registry holds 100 launch plans; one listens to the written artifact and partitions (a one-state Pass
machine, so started runs end at once). Records are real-shaped stream events of versions in the table.
Baseline: the same trigger with a subscription scan per record (benchmarks/baselines.py).

Fan-out: a batch of 100 records of an artifact with 10 launch plans (1,000 starts), handled by the trigger as
shipped (records of different items and the starts of a record concurrently) and by the same trigger with
max_workers=1 (one at a time), with each AWS call first waiting a modelled network round trip
(common.NetworkLatency); moto's CPU time, in this process, cannot overlap (one GIL). The started
executions run after the timed batch (common.executions_held): on AWS they run on Step Functions'
fleet, not in the trigger's process.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks import flows
from benchmarks.baselines import scanning_trigger
from benchmarks.common import (
    ROUND_TRIP_MS, CallCounter, NetworkLatency, executions_held, Report, emit, make_versions, new_client, parser, seed_versions,
    silenced, stream_event, summary_ms,
)
from chalicelib import aws
from chalicelib.events.stream import version_from_record
from chalicelib.local.cloud import LocalCloud
from chalicelib.store.models import Subscription
from chalicelib.trigger.batch import process_stream_batch
from chalicelib.trigger.decide import decide
from chalicelib.trigger.handler import Trigger, default_trigger
from chalicelib.trigger.pool import MAX_WORKERS

PLANS = 100
RECORDS = 100
BATCHES = [(1, RECORDS), (100, 2), (1_000, 1)]  # (records per batch, batches)
BASELINE_MAX_BATCH = 100  # a batch of 1,000 scans would take the baseline minutes; its per-record rate is flat
PURE_ROUNDS = 2_000
DECIDE_GOAL_MS = 1.0
FANOUT_RECORDS, FANOUT_PLANS = 100, 10  # one batch of 100 records, each starting 10 launch plans
FANOUT_ROUNDS = 1  # batches per mode, the modes alternating
FANOUT_GOAL = 5.0  # concurrent at least this many times faster than one record and one start at a time


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

        fanout(cloud, report)

    report.goal(f"decide under {DECIDE_GOAL_MS} ms per record (p95, {len(crowd)} subscriptions)",
                d100["p95_ms"] < DECIDE_GOAL_MS, f"{d100['p95_ms']} ms")
    report.goal("whole handler per record no slower than the baseline (p50)", p50["ours"] <= p50["baseline"],
                f"{p50['ours']} vs {p50['baseline']} ms, ratio {round(p50['ours'] / p50['baseline'], 2)}")
    report.notes.append("AWS calls = time inside boto3 calls to moto (botocore + moto); our code = the rest")
    report.notes.append(f"the baseline is not run on batches over {BASELINE_MAX_BATCH} records (minutes of scans)")
    return report


def fanout(cloud: LocalCloud, report: Report, records: int = FANOUT_RECORDS, plans: int = FANOUT_PLANS,
           rounds: int = FANOUT_ROUNDS) -> float:
    """Concurrent vs one-at-a-time handling of batches of `records` x `plans` starts, with modelled network
    round trips; returns the speed-up."""
    s = cloud.settings
    arn = flows.register_fanout(cloud, plans)
    versions = make_versions(flows.Fanout.name, records * rounds * 2, start=10_000_000)
    print(f"  fan-out: seeding {len(versions):,} versions ...", file=sys.stderr, flush=True)
    seed_versions(cloud, versions)
    pool = iter(versions)
    stream = cloud.outputs["ArtifactsStreamArn"]
    ddb, sfn = aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region)
    shipped = default_trigger()
    one_by_one = Trigger(shipped.registry, shipped.sfn, shipped.aligner, shipped.ledger, max_workers=1)
    modes = [("one at a time (max_workers=1)", one_by_one), (f"concurrent (max_workers={MAX_WORKERS})", shipped)]
    wall = {name: 0.0 for name, _ in modes}
    cpu = {name: 0.0 for name, _ in modes}
    for i in range(rounds):
        for name, trigger in modes:
            print(f"  fan-out: {name}, batch {i + 1} of {rounds} ...", file=sys.stderr, flush=True)
            event = stream_event([next(pool) for _ in range(records)], stream)
            with executions_held(), NetworkLatency(ddb, sfn):
                t0, c0 = time.perf_counter(), time.process_time()
                result = trigger.handle(event)
                wall[name] += time.perf_counter() - t0
                cpu[name] += time.process_time() - c0
            if result["batchItemFailures"]:
                raise RuntimeError(f"fan-out records failed: {result['batchItemFailures'][:3]}")
            cloud.wait_quiet()
    (seq, _), (par, _) = modes
    speedup = wall[seq] / wall[par]
    ceiling = wall[seq] / cpu[par]  # the concurrent batch cannot take less than its CPU time (one GIL)
    table = report.table(
        f"fan-out: a batch of {records} records x {plans} launch plans ({records * plans:,} starts), "
        f"mean of {rounds}", "handler", "s per batch", "CPU s per batch", "CPU ms per start", "speed-up")
    for name, _ in modes:
        table.add(name, round(wall[name] / rounds, 2), round(cpu[name] / rounds, 2),
                  round(cpu[name] / rounds / (records * plans) * 1000, 2),
                  f"{wall[seq] / wall[name]:.1f}x")
    started = sum(len(page["executions"]) for page in
                  sfn.get_paginator("list_executions").paginate(stateMachineArn=arn))
    expected = records * plans * rounds * 2
    report.goal(f"a batch of {records} records x {plans} launch plans at least {FANOUT_GOAL:g}x faster than one at "
                f"a time (network round trips modelled)", speedup >= FANOUT_GOAL,
                f"{speedup:.1f}x (ceiling on this machine {ceiling:.1f}x)")
    report.goal("fan-out: every start made exactly once", started == expected, f"{started:,} of {expected:,}")
    report.notes.append("fan-out: each call attempt first waits " + ", ".join(
        f"{k} {v:g} ms" for k, v in ROUND_TRIP_MS.items()) + " (typical in-region round trips, not measured "
        "here); moto's own work (its CPU, in this process) comes on top, so the ceiling is one-at-a-time time / "
        "the concurrent batch's CPU time")
    return speedup


def main(argv: list[str] | None = None) -> Any:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    emit(run(), args.json)


if __name__ == "__main__":
    main()
