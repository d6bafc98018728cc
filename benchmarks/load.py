"""(9) Load: many versions from concurrent producers across partitions, throttling and redelivery injected.

Producers (threads, each with its own clients) write versions of one artifact through the artifact store,
spread over PARTITIONS partition values; every version item's stream record reaches the trigger Lambda
in-process, which starts the one subscribed launch plan (a one-state Pass machine). Meanwhile a share of the
trigger's AWS call attempts is throttled, answered with a 5xx, or applied and then answered with a 5xx
(chalicelib.local.faults; botocore's standard retries decide what is retried). A record whose calls still fail
is not retried by the local stream, so afterwards every record of the stream is delivered again (once: a
second copy only lengthened the run), in shuffled batches, with invocations killed part-way
(chalicelib.local.delivery), as Lambda would retry.

Reported: versions, runs started, lost (a version with no run) and duplicated (runs beyond one per version),
both of which must be 0; metadata write → execution RUNNING (p50/p95/p99, from the version write's DynamoDB
call to the execution's start date); the trigger's AWS calls per event; peak RSS of the process.

Started executions are held (benchmarks.common.executions_held): they stay RUNNING and are never run here.
On AWS they run on Step Functions' fleet, not in the trigger's process; in moto each would take two threads of
this process and its CPU (one GIL) away from the trigger. A redelivered start therefore meets its execution
while it runs (StartExecution with the same name and input answers with it), as on AWS for any run longer
than the redelivery delay.

Size: TARGET versions (`--versions N` for another size); the goal is to run them within BUDGET_S, this
benchmark's share of `make bench`'s ten minutes.
"""

from __future__ import annotations

import random
import resource
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from benchmarks import flows
from benchmarks.common import CallCounter, Report, emit, executions_held, new_client, parser, percentile, silenced
from chalicelib import aws
from chalicelib.local.cloud import LocalCloud
from chalicelib.local.delivery import deliver
from chalicelib.local.faults import FaultInjector
from chalicelib.ops.dlq import lambda_record
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import make_version
from chalicelib.trigger.decide import execution_name
from chalicelib.trigger.handler import default_trigger

TARGET = 10_000
BUDGET_S = 300.0  # the whole run (the local cloud's start included), within `make bench`'s ten minutes
PRODUCERS = 4
PARTITIONS = 16
FAULT_RATE = 0.03
REDELIVERY = {"max_copies": 1, "max_batch": 100, "timeout_rate": 0.02}
LAUNCH_PLAN, LP_VERSION = f"{flows.Load.name}_lp_000", "1"


class Producers:
    """Concurrent writers of versions; remembers when each version's metadata write began (wall clock)."""

    def __init__(self, cloud: LocalCloud, count: int) -> None:
        self.cloud = cloud
        self.count = count
        self.written: dict[str, float] = {}  # version → wall time of its metadata write's start
        self._serial = 0
        self._lock = threading.Lock()

    def _next(self) -> int | None:
        with self._lock:
            if self._serial >= self.count:
                return None
            self._serial += 1
            return self._serial

    def _produce(self, producer: int, base: int) -> None:
        s = self.cloud.settings
        ddb = new_client("dynamodb", s.region)
        store = ArtifactStore(s, new_client("s3", s.region), ddb)
        counter = CallCounter(ddb, cpu=False)
        offset = time.time() - time.perf_counter()
        with silenced(), counter:
            while (serial := self._next()) is not None:
                made = datetime(2031, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=base + serial)
                version = make_version(made, f"producer-{producer}", str(base + serial))
                partitions = {"region": f"r{serial % PARTITIONS:02d}"}
                counter.reset()
                store.write(flows.Load.name, b"{}", partitions, None, version, f"producer-{producer}", fmt="json")
                meta = [c for c in counter.calls if c.operation in ("PutItem", "TransactWriteItems")][-1]
                with self._lock:
                    self.written[version] = meta.started + offset

    def run(self, base: int) -> float:
        threads = [threading.Thread(target=self._produce, args=(p, base), name=f"producer-{p}")
                   for p in range(PRODUCERS)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - t0


def executions(sfn: Any, arn: str) -> list[dict[str, Any]]:
    """Every execution of the machine, in pages of 1,000 (Step Functions' largest; moto walks all executions per
    page, so 100 pages of 100 would walk 10,000 executions 100 times)."""
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, PaginationConfig={"PageSize": 1000})
    return [e for page in pages for e in page["executions"]]


def stream_records(cloud: LocalCloud) -> list[dict[str, Any]]:
    """Every record the artifacts stream retains, oldest first, in the shape Lambda delivers: what GetRecords
    returns (chalicelib.local.delivery.read_stream), read from moto's shard itself, since moto's response
    serializer would take longer over 10,000 records than the redelivery it feeds."""
    from moto.dynamodb.models import dynamodb_backends

    s = cloud.settings
    table = dynamodb_backends["123456789012"][s.region].get_table(s.artifacts_table)
    arn = cloud.outputs["ArtifactsStreamArn"]
    return [lambda_record(r.to_json(), arn) for r in list(table.stream_shard.items)]


def redeliver_all(cloud: LocalCloud, seed: int) -> dict[str, Any]:
    """Every version record of the stream delivered again (once, shuffled batches, some cut short)."""
    records = [r for r in stream_records(cloud)
               if r.get("eventName") == "INSERT" and r["dynamodb"].get("NewImage", {}).get("name", {}).get("S")
               == flows.Load.name]
    trigger = default_trigger()

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        try:
            return trigger.handle(event)
        except Exception:  # the whole batch failed: Lambda retries all of it
            return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                                          for r in event["Records"]]}

    with silenced():
        stats = deliver(records, invoke, random.Random(seed), **REDELIVERY)
    return {"records": len(records), **stats.model_dump()}


def one_run(cloud: LocalCloud, arn: str, count: int, base: int, faults: FaultInjector,
            redeliver: bool) -> dict[str, Any]:
    s = cloud.settings
    trigger_calls = CallCounter(aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region), cpu=False)
    producers = Producers(cloud, count)
    with trigger_calls:
        seconds = producers.run(base)
    cloud.wait_quiet()
    live_calls = trigger_calls.total()
    errors = len(cloud.errors)
    cloud.errors.clear()
    redelivered: dict[str, Any] = {}
    if redeliver:
        t0 = time.perf_counter()
        redelivered = redeliver_all(cloud, seed=base)
        redelivered["seconds"] = time.perf_counter() - t0
        cloud.wait_quiet()
        cloud.errors.clear()
    return {"seconds": seconds, "written": producers.written, "live_calls": live_calls, "live_errors": errors,
            "redelivered": redelivered}


def run(size: int = TARGET) -> Report:
    report = Report("load", f"concurrent producers, {PARTITIONS} partitions, {FAULT_RATE:.0%} of the trigger's call "
                            f"attempts faulted, every record delivered again")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with LocalCloud() as cloud:
        s = cloud.settings
        arn = flows.register_fanout(cloud, 1, flows.Load)
        sfn = new_client("stepfunctions", s.region)
        faults = FaultInjector(FAULT_RATE, seed=11).attach(aws.client("dynamodb", s.region),
                                                           aws.client("stepfunctions", s.region))
        print(f"  {size:,} versions, {PRODUCERS} producers, then redelivery ...", file=sys.stderr, flush=True)
        with executions_held(run=False):
            main = one_run(cloud, arn, size, 1_000_000, faults, redeliver=True)
        faults.detach()
        found = executions(sfn, arn)
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    written = main["written"]
    expected = {execution_name(flows.Load.name, v, LAUNCH_PLAN, LP_VERSION): v for v in written}
    names = [e["name"] for e in found]
    lost = len(set(expected) - set(names))
    duplicated = len(names) - len(set(names) & set(expected))
    latencies = [e["startDate"].timestamp() - written[expected[e["name"]]] for e in found
                 if e["name"] in expected and expected[e["name"]] in main["written"]]
    ms = [1000 * x for x in latencies]
    redelivered = main["redelivered"]

    t = report.table(f"{size:,} versions", "figure", "value")
    t.add("versions written", len(written))
    t.add(f"producers x partitions", f"{PRODUCERS} x {PARTITIONS}")
    t.add("runs started", len(names))
    t.add("lost (versions without a run)", lost)
    t.add("duplicated (runs beyond one per version)", duplicated)
    t.add("write phase, s", round(main["seconds"], 1))
    t.add("versions per second (write phase)", round(size / main["seconds"], 1))
    t.add("metadata write → RUNNING p50, ms", round(percentile(ms, 50), 1))
    t.add("  p95, ms", round(percentile(ms, 95), 1))
    t.add("  p99, ms", round(percentile(ms, 99), 1))
    t.add("  max, ms", round(max(ms), 1) if ms else None)
    t.add("trigger AWS calls per event (write phase)", round(main["live_calls"] / size, 2))
    t.add("records failed in the write phase (left to redelivery)", main["live_errors"])
    t.add("redelivery: records, deliveries, invocations", f"{redelivered['records']:,}, "
          f"{redelivered['deliveries']:,}, {redelivered['invocations']:,}")
    t.add("redelivery: reported failures, timeouts", f"{redelivered['reported_failures']}, {redelivered['timeouts']}")
    t.add("faults injected (retried by botocore / surfaced)",
          f"{faults.total_injected:,} ({faults.retries:,} / {faults.surfaced:,})")
    t.add("whole benchmark (local cloud start included), s", round(elapsed, 1))
    t.add("peak RSS, MiB", round(rss / 1024, 1))
    t.add("  at start, MiB", round(rss0 / 1024, 1))

    report.goal("load: no version lost and none started twice", lost == 0 and duplicated == 0,
                f"{len(written):,} versions, {len(names):,} runs, lost {lost}, duplicated {duplicated}")
    report.goal(f"load: {TARGET:,} versions within its {BUDGET_S:.0f} s share of the bench",
                size >= TARGET and elapsed <= BUDGET_S, f"{size:,} versions in {elapsed:.0f} s")
    report.notes.append("latency counts the versions whose first delivery failed too (they start at redelivery)")
    report.notes.append("started executions are held, never run here: on AWS they run on Step Functions' fleet, "
                        "not in the trigger's process")
    return report


def main(argv: list[str] | None = None) -> Any:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--versions", type=int, default=TARGET, help=f"versions to write (default {TARGET:,})")
    args = p.parse_args(argv)
    emit(run(args.versions), args.json)


if __name__ == "__main__":
    main()
