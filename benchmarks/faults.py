"""Faults: the artifact → trigger → execution chain under injected AWS faults, next to a fault-free baseline
from the same run.

    python benchmarks/faults.py [--rate 0.2] [--versions 150] [--timeout-rate 0.1] [--seed 7] [--json]

Each round starts a fresh local cloud with examples/fanout.py registered and writes VERSIONS artifact
versions (readings across three sites, and alerts); a producer whose write still fails after botocore's
attempts writes the same version again, as a retried task would. Every stream record is then delivered 1-3
times in shuffled batches of up to 10 to the deployed trigger function; a share of invocations is killed
part-way (their whole batch comes back) and records reported as failed come back with the rest of their
batch, as Lambda resumes from the lowest failed sequence number. Faults (throttling, 5xx, and responses
lost after the write) hit StartExecution, PutItem, Query, PutObject and GetObject of every client our code
uses: producers, trigger and task runner. Finally it counts the executions each (version, active launch
plan) started. Executions lost and duplicate executions must both be 0 (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FANOUT = ROOT / "examples" / "fanout.py"
# Errors a record may fail with when AWS calls fail: retries exhausted, or botocore's retry quota spent.
FAULT_SHAPED = {"ClientError", "TransientAwsError"}
SITES = ("north", "south", "east")


def expected_launch_plans(artifact: str, site: str | None) -> list[str]:
    if artifact == "readings":
        return ["every_reading"] + (["north_only"] if site == "north" else [])
    return ["on_alert"]


def write(store: Any, artifact: str, partitions: dict[str, str], rng: random.Random) -> tuple[str, int]:
    """Write one version as a task does; retry the whole write (same version id) while it fails."""
    from chalicelib.store.models import make_version

    producer = f"arn:aws:states:us-east-1:123456789012:execution:bench:{uuid.UUID(int=rng.getrandbits(128)).hex}"
    version = make_version(datetime.now(timezone.utc), producer, "n0", "o0")
    body = json.dumps({"producer": producer, "value": rng.random()}).encode()
    for attempt in range(20):
        try:
            store.write(artifact, body, partitions, None, version, produced_by=producer, fmt="json")
            return version, attempt
        except Exception:
            time.sleep(0.01)
    raise RuntimeError(f"version {version} could not be written in 20 attempts")


def run_round(rate: float, versions: int, timeout_rate: float, seed: int) -> dict[str, Any]:
    from chalicelib import aws
    from chalicelib.ops.register import Registrar
    from chalicelib.runtime import loader
    from chalicelib.local.faults import FaultInjector
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.local.delivery import deliver, read_stream, started_runs
    from chalicelib.store.artifacts import ArtifactStore
    from chalicelib.store.registry import Registry

    rng = random.Random(seed)
    with LocalCloud() as cloud:
        s = cloud.settings
        ddb, sfn, s3 = (aws.client(n, s.region) for n in ("dynamodb", "stepfunctions", "s3"))
        lam, streams = aws.client("lambda", s.region), aws.client("dynamodbstreams", s.region)
        Registrar(s, sfn, Registry(s, ddb), cloud.states_role_arn).register(loader.load_paths([FANOUT]))
        for esm in lam.list_event_source_mappings()["EventSourceMappings"]:  # records wait in the stream
            lam.update_event_source_mapping(UUID=esm["UUID"], Enabled=False)
        faults = FaultInjector(rate, seed=seed).attach(ddb, sfn, s3)
        started = time.perf_counter()

        store = ArtifactStore(s, s3, ddb)
        specs, producer_retries = {}, 0
        for _ in range(versions):
            artifact = "readings" if rng.random() < 0.75 else "alerts"
            site = rng.choice(SITES) if artifact == "readings" else None
            version, retries = write(store, artifact, {"site": site} if site else {}, rng)
            specs[version] = (artifact, site)
            producer_retries += retries
        records = [r for r in read_stream(streams, cloud.outputs["ArtifactsStreamArn"])
                   if r["dynamodb"].get("NewImage", {}).get("version", {}).get("S") in specs]

        outcomes: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        unexpected: list[dict[str, Any]] = []
        function = f"{s.prefix}on_artifact_event"

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            resp = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail")
            for line in base64.b64decode(resp.get("LogResult", "")).decode().splitlines():
                if not line.startswith("{"):
                    continue
                doc = json.loads(line)
                if doc.get("message") == "run request":
                    outcomes[doc["outcome"]] += 1
                elif doc.get("level") == "ERROR" and doc.get("message", "").startswith("stream record failed"):
                    errors[doc.get("error_code") or doc.get("error_type")] += 1
                    if not doc.get("error_code") and doc.get("error_type") not in FAULT_SHAPED:
                        unexpected.append(doc)
            payload = json.loads(resp["Payload"].read() or b"null")
            if resp.get("FunctionError"):  # the event source mapping retries the whole batch
                return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                                              for r in event["Records"]]}
            return payload

        stats = deliver(records, invoke, rng, timeout_rate=timeout_rate)
        cloud.wait_quiet(600)
        seconds = time.perf_counter() - started
        faults.detach()

        runs = started_runs(sfn, s.prefix, set(specs))
        expected = {(a, v, lp) for v, (a, site) in specs.items() for lp in expected_launch_plans(a, site)}
        statuses: Counter[str] = Counter()
        for page in sfn.get_paginator("list_state_machines").paginate():
            for sm in page["stateMachines"]:
                for epage in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                    statuses.update(ex["status"] for ex in epage["executions"])
        starts = outcomes["started"] + outcomes["already_started"]
        return {
            "fault rate": rate,
            "versions written": versions,
            "producer write retries": producer_retries,
            "events processed (records)": stats.records,
            "record deliveries": stats.deliveries,
            "trigger invocations": stats.invocations,
            "invocations killed part-way": stats.timeouts,
            "records reported failed": stats.reported_failures,
            "  by error": ", ".join(f"{k} {n}" for k, n in errors.most_common()) or "-",
            "faults injected": faults.total_injected,
            "  throttled / 5xx / lost": "{} / {} / {}".format(
                faults.injected["throttled"], faults.injected["server_error"], faults.injected["lost"]),
            "retries (botocore)": faults.retries,
            "calls failed after all attempts": faults.surfaced,
            "StartExecution answered": starts,
            "duplicates suppressed": starts - sum(runs.values()),
            "executions expected": len(expected),
            "executions started": sum(runs.values()),
            "executions lost": sum(1 for key in expected if runs[key] == 0),
            "duplicate executions": sum(n - 1 for n in runs.values() if n > 1)
            + sum(n for key, n in runs.items() if key not in expected),
            "executions succeeded": statuses["SUCCEEDED"],
            "unexpected trigger errors": len(unexpected),
            "seconds (writes to all runs finished)": round(seconds, 2),
            "_unexpected": unexpected,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=0.2, help="share of attempts faulted per operation")
    parser.add_argument("--versions", type=int, default=150)
    parser.add_argument("--timeout-rate", type=float, default=0.1, help="share of invocations killed part-way")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import logging

    from chalicelib import capture

    logging.getLogger("moto").setLevel(logging.CRITICAL)  # its Step Functions interpreter logs every task retry
    capture.install()  # handler log lines stay with their invocation, off the figures
    rounds = [run_round(rate, args.versions, args.timeout_rate, args.seed) for rate in (0.0, args.rate)]
    unexpected = [(r["fault rate"], doc) for r in rounds for doc in r.pop("_unexpected")]
    if args.json:
        print(json.dumps({"baseline": rounds[0], "faults": rounds[1]}, indent=2))
    else:
        width = max(len(k) for k in rounds[0])
        print(f"{'':{width}}  {'baseline':>12}  {'faults':>12}")
        for key in rounds[0]:
            print(f"{key:{width}}  {rounds[0][key]!s:>12}  {rounds[1][key]!s:>12}")
    for rate, doc in unexpected:
        print(f"unexpected trigger error (fault rate {rate}): {json.dumps(doc)[:800]}", file=sys.stderr)
    bad = any(r["executions lost"] or r["duplicate executions"] for r in rounds)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
