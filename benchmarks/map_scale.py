"""map_task at scale: one Map over N items on the local cloud; time, the largest state, AWS calls per item.

Each item is one task-runner invocation (in-process here) whose result is kept in S3, so the execution's state
stays small however many items there are. moto's Step Functions interpreter runs about four items a second on
two CPUs, so the default sizes are 100 and 1,000; `--items 10000` runs ten thousand (about forty minutes).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import CallCounter, Report, emit, silenced

FLOWS = Path(__file__).with_name("map_flows.py")
SIZES = [100, 1000]
STATE_LIMIT = 262_144  # Step Functions' state and history event payload limit, bytes of UTF-8


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def run(sizes: list[int]) -> Report:
    from chalicelib import aws
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.runtime import loader

    report = Report("map_scale", "map_task over N items of 1 KiB: time, largest state, AWS calls per item")
    table = report.table("one Map per size", "items", "seconds", "items/s", "largest event (bytes)",
                         "result bytes", "AWS calls", "calls/item", "status")
    defs = loader.load_paths([FLOWS])
    with LocalCloud() as cloud, silenced():
        region = cloud.settings.region
        sfn = aws.client("stepfunctions", region)
        clients = [aws.client(s, region) for s in ("s3", "dynamodb", "stepfunctions")]
        for n in sizes:
            with CallCounter(*clients) as calls:
                started = time.perf_counter()
                rep = run_in_cloud(cloud, defs, "map_wf", {"n": n}, from_text=False, timeout=7200)
                seconds = time.perf_counter() - started
            (ex,) = [e for e in rep["executions"] if e["workflow"].endswith(".map_wf")][:1] or [{}]
            arn = ex.get("id") or ex.get("arn") or ex.get("execution_arn")
            events = _history(sfn, arn) if arn else []
            largest = max((len(json.dumps(e, default=str).encode()) for e in events), default=0)
            total = calls.total()
            table.add(n, round(seconds, 1), round(n / seconds, 1), largest, n * 1024, total,
                      round(total / n, 1), ex.get("status"))
            report.goal(f"map_scale: {n:,} items, every state under 256 KiB", ex.get("status") == "SUCCEEDED"
                        and largest < STATE_LIMIT, f"largest event {largest:,} bytes")
    report.notes.append("AWS calls: every S3, DynamoDB and Step Functions call of the task runner and trigger "
                        "(the in-process clients), not the interpreter's own bookkeeping")
    return report


def main(argv: list[str] | None = None) -> Any:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--items", type=int, action="append", help=f"map sizes (default {SIZES})")
    args = p.parse_args(argv)
    emit(run(args.items or SIZES), args.json)


if __name__ == "__main__":
    main()
