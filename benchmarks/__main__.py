"""`python -m benchmarks [--json] [NAME ...]`: run the benchmarks (all by default), each in a fresh interpreter.

The machine has two CPUs and most benchmarks keep one busy (moto answers in the benchmark's own process, under
one GIL), so the default run uses two lanes: SECOND_LANE (the long load run, then the two that build the stage's
packages, one after the other because they share the build cache) beside the others, one benchmark at a time
in each. Every figure is a ratio to a baseline measured in the same process, or a count, so the other lane
slows both sides of a comparison alike; the summary gives each benchmark's seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import GOALS_FILE_ENV, ROOT, fmt, machine

ALL = ["cold_start", "calls", "claims", "handler_time", "latency", "query_latest", "artifact_io", "upload_memory",
       "load", "capacity", "stack_figures", "package_cold_start", "peer_dagster"]
# Only when named: moto's Step Functions interpreter runs about four Map items a second here, so map_scale's
# 1,100 items take about five minutes alone, half the default run's ten.
EXTRA = ["map_scale"]
SECOND_LANE = ["load", "claims", "stack_figures", "package_cold_start"]
BUDGET_SECONDS = 600  # the default run's goal: within ten minutes


def summary(goals: list[dict[str, Any]], failed: list[str], seconds: float,
            times: dict[str, float] | None = None) -> str:
    """One screen: every goal of every benchmark, its figure, met or missed; what was skipped and why; the time
    each benchmark took."""
    skipped = [g for g in goals if "skipped" in g]
    goals = [g for g in goals if "skipped" not in g]
    lines = ["", "== summary: every goal, its figure, met or missed"]
    width = min(max((len(g["goal"]) for g in goals), default=0), 64)
    name = max((len(g["benchmark"]) for g in goals + skipped), default=0)
    for g in goals:
        lines.append(f"  {'met   ' if g['met'] else 'MISSED'}  {g['benchmark']:<{name}}  {_cut(g['goal'], width):<{width}}  "
                     f"{_cut(fmt(g['value']), 60)}")
    for g in skipped:
        lines.append(f"  skip    {g['benchmark']:<{name}}  {_cut(g['skipped'], 100)}")
    met = sum(1 for g in goals if g["met"])
    lines.append(f"  {met} of {len(goals)} goals met; {seconds:.0f} s"
                 + (f"; FAILED to run: {', '.join(failed)}" if failed else ""))
    if times:
        lines.extend(textwrap.wrap(", ".join(f"{name} {t:.0f}" for name, t in times.items()), width=130,
                                   initial_indent="  seconds: ", subsequent_indent="    "))
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "~"


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--json", action="store_true", help="print one JSON document with every benchmark's figures")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"any of {', '.join(ALL + EXTRA)} (default: all but {', '.join(EXTRA)})")
    args = p.parse_args()
    unknown = sorted(set(args.names) - set(ALL + EXTRA))
    if unknown:
        p.error(f"no benchmark named {unknown[0]!r}; choose from {', '.join(ALL + EXTRA)}")
    names = args.names or ALL
    started = time.monotonic()
    results, failed = [], []
    times: dict[str, float] = {}
    skipped: list[dict[str, Any]] = []
    if not args.json:
        m = machine()
        print(f"machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['platform']}, moto {m['moto']}",
              flush=True)
    goals_file = Path(tempfile.mkstemp(prefix="benchmark-goals-", suffix=".jsonl")[1])
    env = {**os.environ, GOALS_FILE_ENV: str(goals_file)}
    outputs: dict[str, str] = {}

    def run(name: str) -> None:
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *(["--json"] if args.json else [])]
        try:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
        except OSError as exc:  # in the second lane's thread too: a benchmark that cannot start is reported failed
            proc = subprocess.CompletedProcess(cmd, 1, stdout=f"{name}: could not start: {exc}\n")
        times[name] = time.monotonic() - t0
        if proc.returncode:
            failed.append(name)
        # a benchmark that cannot measure a part prints "skipped: <what is missing>" (or notes it in its report)
        skipped.extend({"benchmark": name, "skipped": line.strip()} for line in proc.stdout.splitlines()
                       if line.startswith("skipped"))
        outputs[name] = proc.stdout
        if not args.json:
            with printing:
                print(f"\n{proc.stdout.rstrip()}\n  ({times[name]:.0f} s)", flush=True)

    printing = threading.Lock()
    second = [n for n in SECOND_LANE if n in names] if len(names) > 1 else []
    lane = threading.Thread(target=lambda: [run(n) for n in second], daemon=True)
    lane.start()
    for name in names:
        if name not in second:
            run(name)
    lane.join()
    for name in names:
        if args.json:
            results.append(json.loads(outputs[name]) if name not in failed else {"benchmark": name, "error": True})
    total = time.monotonic() - started
    goals = [json.loads(line) for line in goals_file.read_text().splitlines() if line.strip()] + skipped
    if not args.names:
        goals.append({"benchmark": "bench", "goal": f"the default run within {BUDGET_SECONDS // 60} minutes",
                      "met": total <= BUDGET_SECONDS, "value": f"{total:.0f} s"})
    goals_file.unlink()
    if args.json:
        print(json.dumps({"machine": machine(), "seconds": round(total),
                          "benchmark_seconds": {k: round(v) for k, v in times.items()}, "benchmarks": results,
                          "goals": goals},
                         indent=2))
    else:
        print(summary(goals, failed, total, {n: times[n] for n in names if n in times}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
