"""(3) Local end-to-end latency: from an artifact version's metadata write to its downstream execution RUNNING.

Ours: the artifact store writes the data object, then the version item; the DynamoDB stream delivers the record to
the trigger Lambda (in-process), which starts the execution. Measured from the PutItem call's start to the
StartExecution call's return (moto creates executions RUNNING), over EVENTS events, 100 launch plans registered.
Our code's share is the trigger handler's time minus the AWS calls it makes; the rest is moto and botocore.
Baseline: a polling sensor (1 s interval) over fewer events, with the stream trigger paused.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from benchmarks import flows
from benchmarks.baselines import PollingSensor
from benchmarks.common import CallCounter, Report, emit, new_client, parser, paused_trigger, summary_ms
from chalicelib import aws
from chalicelib.local.cloud import LocalCloud
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import make_version

EVENTS = 100
PLANS = 100
BASELINE_EVENTS = 10
POLL_INTERVAL = 1.0
GOAL_P50_MS = 100.0


class HandlerClock:
    """Times each in-process call of the trigger Lambda's entry point (`app.on_artifact_event`)."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float, float]] = []  # (wall start, wall end, thread CPU seconds)
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> HandlerClock:
        import app

        self._original = original = app.on_artifact_event

        def timed(event: Any, context: Any = None) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return original(event, context)
            finally:
                self.spans.append((t0, time.perf_counter(), time.thread_time() - c0))

        app.on_artifact_event = timed
        return self

    def __exit__(self, *exc: Any) -> None:
        import app

        app.on_artifact_event = self._original


def run() -> Report:
    report = Report("latency", f"artifact metadata write → downstream execution RUNNING ({PLANS} launch plans)")
    rng = random.Random(7)
    with LocalCloud() as cloud:
        s = cloud.settings
        flows.register(cloud, flows.definitions(PLANS))
        w_ddb = new_client("dynamodb", s.region)
        store = ArtifactStore(s, new_client("s3", s.region), w_ddb)
        sfn_check = new_client("stepfunctions", s.region)
        writes = CallCounter(w_ddb)
        trigger_calls = CallCounter(aws.client("dynamodb", s.region), aws.client("stepfunctions", s.region))
        serial = 0

        def write() -> float:
            """Write a new version; returns when the write of its metadata item (PutItem, or the transaction
            holding it with its index items) started."""
            nonlocal serial
            serial += 1
            made = datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=serial)
            with writes:
                store.write(flows.Events.name, b"{}", dict(flows.PARTITIONS), None,
                            make_version(made, "latency", str(serial)), "bench", fmt="json")
            put = [c for c in writes.calls if c.operation in ("PutItem", "TransactWriteItems")][-1]
            writes.reset()
            return put.started

        # -- ours ------------------------------------------------------------------------------------------
        print(f"  {EVENTS} events through the stream ...", file=sys.stderr, flush=True)
        total, own, own_cpu, statuses, names = [], [], [], {}, set()
        me = threading.get_ident()
        with HandlerClock() as clock:
            for _ in range(EVENTS):
                with trigger_calls:
                    t0 = write()
                calls = trigger_calls.select(thread=me)
                trigger_calls.reset()
                starts = [c for c in calls if c.operation == "StartExecution"]
                if len(starts) != 1:
                    raise RuntimeError(f"expected one StartExecution per event, saw {len(starts)}")
                total.append(starts[0].ended - t0)
                h0, h1, cpu = clock.spans[-1]
                own.append((h1 - h0) - sum(c.seconds for c in calls))
                own_cpu.append(cpu - sum(c.cpu_seconds for c in calls))
                clock.spans.clear()
                cloud.wait_quiet()

        # -- baseline: a polling sensor --------------------------------------------------------------------
        print(f"  {BASELINE_EVENTS} events through a {POLL_INTERVAL:g} s polling sensor ...", file=sys.stderr,
              flush=True)
        p_sfn = new_client("stepfunctions", s.region)
        sensor = PollingSensor(s, new_client("dynamodb", s.region), p_sfn, flows.Events.name, POLL_INTERVAL)
        polled = []
        with paused_trigger(cloud), CallCounter(p_sfn) as sensor_calls:
            sensor.start()
            try:
                for _ in range(BASELINE_EVENTS):
                    time.sleep(rng.uniform(0, POLL_INTERVAL))
                    t0 = write()
                    deadline = time.monotonic() + 10 * POLL_INTERVAL
                    while True:
                        done = [c for c in sensor_calls.calls if c.operation == "StartExecution"
                                and c.started >= t0 and c.ended]
                        if done:
                            polled.append(done[0].ended - t0)
                            break
                        if time.monotonic() > deadline:
                            raise RuntimeError("the polling sensor never started the run")
                        time.sleep(0.002)
                    sensor_calls.reset()
            finally:
                sensor.stop()
        cloud.wait_quiet()
        for page in sfn_check.get_paginator("list_state_machines").paginate():
            for sm in page["stateMachines"]:
                for p in sfn_check.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                    for e in p["executions"]:
                        names.add(e["name"])
                        statuses[e["status"]] = statuses.get(e["status"], 0) + 1

    e2e, code, cpu, base = summary_ms(total), summary_ms(own), summary_ms(own_cpu), summary_ms(polled)
    moto = summary_ms([t - o for t, o in zip(total, own)])
    table = report.table("latency, ms", "path", "events", "p50", "p95", "max")
    table.add("ours: metadata write → RUNNING", e2e["n"], e2e["p50_ms"], e2e["p95_ms"], e2e["max_ms"])
    table.add("  of which our code (trigger handler minus its AWS calls)", code["n"], code["p50_ms"],
              code["p95_ms"], code["max_ms"])
    table.add("    the same in CPU time of the handler's thread", cpu["n"], cpu["p50_ms"], cpu["p95_ms"], cpu["max_ms"])
    table.add("  of which moto and botocore (the rest)", moto["n"], moto["p50_ms"], moto["p95_ms"], moto["max_ms"])
    table.add(f"baseline: polling sensor, {POLL_INTERVAL:g} s interval", base["n"], base["p50_ms"], base["p95_ms"],
              base["max_ms"])
    table.add("baseline/ours (p50)", None, round(base["p50_ms"] / e2e["p50_ms"], 1), None, None)
    report.goal(f"p50 under {GOAL_P50_MS:g} ms", e2e["p50_ms"] < GOAL_P50_MS, f"{e2e['p50_ms']} ms")
    triggered = statuses.get("RUNNING", 0) + statuses.get("SUCCEEDED", 0)
    report.goal(f"every version started exactly one run (none missed, none merged) of {EVENTS + BASELINE_EVENTS}",
                len(names) == EVENTS + BASELINE_EVENTS and triggered == len(names),
                f"{len(names)} executions: {statuses}")
    report.notes.append("the baseline reads every new version at each poll (an asset sensor reads only the newest)")
    report.notes.append("wall time of our code includes waiting for the GIL while moto's execution threads run")
    return report


def main(argv: list[str] | None = None) -> Any:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    emit(run(), args.json)


if __name__ == "__main__":
    main()
