"""Cold import time of the Lambda entry points, from the packages `chalice deploy` ships.

    python benchmarks/package_cold_start.py [--runs 5]

The function zip (and, for the task runner, the tasks layer) is unpacked and imported in fresh interpreters
that see only the package and the standard library (`python -S`, PYTHONPATH=package) and write no bytecode
(PYTHONDONTWRITEBYTECODE=1), as in Lambda, whose code directories are read-only: chalice ships `.py` files
without `.pyc`, so every cold start compiles them, while the tasks layer ships bytecode. For comparison, in the
same run: `import boto3` alone (any function calling AWS pays it), the trigger with bytecode available (what a
function zip with `.pyc` would give), and the task runner with the layer's bytecode removed.

Goal for the trigger (`import app` + `chalicelib.trigger.handler`): under 150 ms, with pandas absent.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.deploy import layer  # noqa: E402
from chalicelib.deploy.workspace import (  # noqa: E402
    configure_offline, copy_project, example_layer_arn, example_stage, package,
)

GOAL_MS = 150.0
STAGE = "bench"

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
for name in sys.argv[1:]:
    __import__(name)
t1 = time.perf_counter()
import importlib.util
print(json.dumps({"ms": 1000 * (t1 - t0),
                  "loaded": {m: m in sys.modules for m in ("pandas", "numpy", "boto3")},
                  "shipped": {m: importlib.util.find_spec(m) is not None for m in ("pandas", "numpy")}}))
"""


def probe(paths: list[Path], modules: list[str], pycache: Path | None = None, importtime: bool = False) -> dict:
    """Import `modules` in a fresh interpreter. With `pycache`, bytecode is read from and written to it."""
    cmd = [sys.executable, "-S"]
    env = {"PYTHONPATH": ":".join(str(p) for p in paths), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    if pycache is not None:
        cmd += ["-X", f"pycache_prefix={pycache}"]
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if importtime:
        cmd += ["-X", "importtime"]
    proc = subprocess.run([*cmd, "-c", PROBE, *modules], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"import of {modules} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    result["importtime"] = proc.stderr
    return result


def median_ms(paths: list[Path], modules: list[str], work: Path, runs: int, warm: bool = False) -> tuple[float, dict]:
    times, last = [], {}
    for i in range(runs + (1 if warm else 0)):
        last = probe(paths, modules, work / "pyc-warm" if warm else None)
        if warm and i == 0:
            continue  # the first run writes the cache
        times.append(last["ms"])
    return statistics.median(times), last


def top_imports(importtime: str, count: int = 6) -> list[tuple[str, float]]:
    """Largest third-party packages by cumulative import time (their first import)."""
    found: dict[str, float] = {}
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        name = name.strip()
        if "." in name or name in ("app", "chalicelib") or not cumulative.strip().isdigit():
            continue
        found.setdefault(name, int(cumulative) / 1000)
    return sorted(found.items(), key=lambda kv: -kv[1])[:count]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cascade-cold-") as tmp:
        work = Path(tmp)
        stage = example_stage(STAGE)
        project = copy_project(ROOT, work / "project")
        configure_offline(project, stage, example_layer_arn(stage))
        fn_dir, layer_dir = work / "function", work / "layer"
        zipfile.ZipFile(package(project, STAGE, work / "out") / "deployment.zip").extractall(fn_dir)
        built = layer.build(project)
        zipfile.ZipFile(built.path).extractall(layer_dir)
        zipfile.ZipFile(built.path).extractall(work / "layer-source-only")
        for cache in sorted((work / "layer-source-only").rglob("__pycache__")):
            shutil.rmtree(cache)

        fn, trigger, runner = [fn_dir], ["app", "chalicelib.trigger.handler"], ["app", "chalicelib.runtime.runner", "pandas"]
        rows = [
            ("baseline: import boto3 (from the function zip)", *median_ms(fn, ["boto3"], work, args.runs)),
            ("trigger: import app", *median_ms(fn, ["app"], work, args.runs)),
            ("trigger: app + chalicelib.trigger.handler", *median_ms(fn, trigger, work, args.runs)),
            ("  same, if the function zip shipped bytecode", *median_ms(fn, trigger, work, args.runs, warm=True)),
            ("task runner: app + runner + pandas (tasks layer)",
             *median_ms([fn_dir, layer_dir / "python"], runner, work, args.runs)),
            ("  same, tasks layer without its bytecode",
             *median_ms([fn_dir, work / "layer-source-only" / "python"], runner, work, args.runs)),
        ]
        trace = probe(fn, trigger, importtime=True)

    print(f"median of {args.runs} fresh interpreters, Python {sys.version.split()[0]}, no bytecode written")
    for name, ms, last in rows:
        print(f"  {name:52} {ms:8.0f} ms")
    trigger_ms, trigger = rows[2][1], rows[2][2]
    print(f"trigger path: pandas imported: {trigger['loaded']['pandas']}, numpy imported: {trigger['loaded']['numpy']}, "
          f"pandas in the trigger's package: {trigger['shipped']['pandas']}")
    print(f"goal {GOAL_MS:.0f} ms: {'met' if trigger_ms <= GOAL_MS else f'missed by {trigger_ms - GOAL_MS:.0f} ms'}")
    print("largest imports on the trigger path (cumulative ms, one run):")
    for name, ms in top_imports(trace["importtime"]):
        print(f"  {name:30} {ms:8.0f}")
    return 0 if not trigger["loaded"]["pandas"] else 1


if __name__ == "__main__":
    sys.exit(main())
