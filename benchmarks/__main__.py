"""`python -m benchmarks [--json] [NAME ...]`: run the benchmarks (all by default), each in a fresh interpreter."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks.common import ROOT, machine

ALL = ["cold_start", "calls", "claims", "handler_time", "latency", "query_latest", "artifact_io", "upload_memory"]


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--json", action="store_true", help="print one JSON document with every benchmark's figures")
    p.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(ALL)} (default: all)")
    args = p.parse_args()
    unknown = sorted(set(args.names) - set(ALL))
    if unknown:
        p.error(f"no benchmark named {unknown[0]!r}; choose from {', '.join(ALL)}")
    names = args.names or ALL
    started = time.monotonic()
    results, failed = [], []
    if not args.json:
        m = machine()
        print(f"machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['platform']}, moto {m['moto']}",
              flush=True)
    for name in names:
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", f"benchmarks.{name}", *(["--json"] if args.json else [])]
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if proc.returncode:
            failed.append(name)
        if args.json:
            results.append(json.loads(proc.stdout) if proc.returncode == 0 else {"benchmark": name, "error": True})
        else:
            print(f"\n{proc.stdout.rstrip()}\n  ({time.monotonic() - t0:.0f} s)", flush=True)
    total = time.monotonic() - started
    if args.json:
        print(json.dumps({"machine": machine(), "seconds": round(total), "benchmarks": results}, indent=2))
    else:
        print(f"\nall benchmarks: {total:.0f} s" + (f"; FAILED to run: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
