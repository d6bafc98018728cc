"""Upload memory: peak RSS of turning a CSV upload into its parquet data object, at 100 MiB and 500 MiB.

Each conversion runs in a fresh interpreter (`python -m benchmarks.upload_memory --child ...`) reading the CSV
from a local file as the upload handler reads the S3 object's stream, and its peak RSS is read from the
kernel when it exits (os.wait4's ru_maxrss, for that one child). The conversions:
  * chunked:   chalicelib.uploads.content.prepare (two passes in chunks, one parquet row group per chunk);
  * baseline:  the old whole-file conversion measured in the same run: read the bytes, pd.read_csv, to_parquet.
The floor (a child that imports pandas and fastparquet and converts nothing) is shown too. The upload
function has 1,769 MB; the goal is that the chunked conversion of the largest accepted file (512 MiB) stays
well under it.

The CSV has a typical mix: an id, a timestamp as text, a region as text, two floats and an int.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Report, emit, parser

SIZES_MIB = (100, 500)
LAMBDA_MB = 1769
MiB = 1024 * 1024


def make_csv(path: Path, mib: int) -> int:
    """Write a CSV of about `mib` MiB; returns its rows."""
    import numpy as np

    rng = np.random.default_rng(7)
    rows = 0
    with path.open("w") as f:
        f.write("id,ts,region,price,qty,score\n")
        while f.tell() < mib * MiB:
            n = 200_000
            ids = np.arange(rows, rows + n)
            lines = [f"{i},2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,{r},{p:.4f},{q},{s:.6f}\n"
                     for i, r, p, q, s in zip(ids.tolist(), rng.choice(["emea", "apac", "north america", "latam"], n).tolist(),
                                              (rng.random(n) * 1000).tolist(), rng.integers(0, 10_000, n).tolist(),
                                              rng.random(n).tolist())]
            f.writelines(lines)
            rows += n
    return rows


def child(mode: str, path: str) -> None:
    import pandas as pd  # noqa: F401  (the floor: what the handler imports for a CSV)
    import fastparquet  # noqa: F401

    if mode == "floor":
        return
    if mode == "baseline":
        from chalicelib.store import codec

        body = Path(path).read_bytes()
        df = pd.read_csv(io.BytesIO(body))
        out = codec.dumps(df, "parquet")
    else:
        from chalicelib.uploads.content import Limits, prepare

        out, _ = prepare(lambda: open(path, "rb"), "csv", "uploads/bench/x.csv", Limits())
    sys.stderr.write(f"parquet_bytes={len(out)}\n")


def measure(mode: str, path: Path) -> tuple[float, float, int]:
    """(peak RSS in MiB, seconds, parquet bytes) of one conversion in a fresh interpreter."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.upload_memory", "--child", mode, str(path)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode:
        raise RuntimeError(f"{mode} conversion of {path} failed: {err[-2000:]}")
    size = int(next((line.split("=", 1)[1] for line in err.splitlines() if line.startswith("parquet_bytes=")), 0))
    return usage.ru_maxrss / 1024, time.monotonic() - t0, size  # ru_maxrss is in KiB on Linux


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse_hidden())
    p.add_argument("--sizes", type=int, nargs="*", default=list(SIZES_MIB), help="CSV sizes in MiB")
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    report = Report("upload_memory", "peak RSS of a CSV upload's conversion to parquet, each in a fresh interpreter")
    table = report.table("CSV → parquet", "CSV", "rows", "conversion", "peak RSS", "× CSV size", "time",
                         "parquet")
    with tempfile.TemporaryDirectory() as tmp:
        floor, _, _ = measure("floor", Path(tmp) / "none.csv")
        table.add("-", "-", "floor (imports only)", f"{floor:.0f} MiB", "-", "-", "-")
        for mib in args.sizes:
            path = Path(tmp) / f"{mib}.csv"
            rows = make_csv(path, mib)
            real = path.stat().st_size / MiB
            results = {}
            for mode in ("chunked", "baseline"):
                results[mode] = peak, secs, size = measure(mode, path)
                table.add(f"{real:.0f} MiB", f"{rows:,}", mode, f"{peak:.0f} MiB", f"{peak / real:.1f}",
                          f"{secs:.1f} s", f"{size / MiB:.0f} MiB")
            path.unlink()
            chunked = results["chunked"][0]
            report.goal(f"{mib} MiB CSV: chunked peak RSS under half the function's {LAMBDA_MB} MB",
                        chunked < LAMBDA_MB * 1e6 / MiB / 2, f"{chunked:.0f} MiB")
            report.goal(f"{mib} MiB CSV: chunked peak below the whole-file baseline",
                        chunked < results["baseline"][0], f"{chunked:.0f} vs {results['baseline'][0]:.0f} MiB")
    report.notes.append("peak RSS from os.wait4 (ru_maxrss of that child alone); the child reads a local file as "
                        "the handler reads the S3 object's stream; the data object is then one put_object of the "
                        "parquet bytes")
    emit(report, args.json)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
