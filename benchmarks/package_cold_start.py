"""Cold import time of the Lambda entry points, from the packages `chalice deploy` ships.

    python -m benchmarks.package_cold_start [--runs 5] [--json]

The function zip (and, for the task runner, the tasks layer) is unpacked and imported in fresh interpreters
that see only the package and the standard library (`python -S`, PYTHONPATH=package) and write no bytecode
(PYTHONDONTWRITEBYTECODE=1), as in Lambda, whose code directories are read-only: chalice ships `.py` files
without `.pyc`, so every cold start compiles them, while the tasks layer ships bytecode. For comparison, in the
same run: `import boto3` alone (any function calling AWS pays it), the trigger with bytecode available (what a
function zip with `.pyc` would give), and the task runner with the layer's bytecode removed.

As shipped with the functions layer (chalicelib.deploy.layer.build_functions): the function zip holds only the
project's code, with checked-hash bytecode (used only while it matches the source), and every dependency
comes from the functions layer, compiled for the runtime. Goals, medians in the same run: the trigger's import
(`app` + `chalicelib.trigger.handler`) and the task runner's (`app` + `chalicelib.runtime.runner`, pandas not
imported) each at most half of `import boto3` from a plain chalice function zip; the trigger under 150 ms.
A part whose pieces cannot be built here (no `chalice`, no package index for the layers) says what is missing
and is skipped.
"""

from __future__ import annotations

import argparse
import compileall
import json
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report, emit  # noqa: E402
from chalicelib.deploy import layer  # noqa: E402
from chalicelib.deploy.workspace import (  # noqa: E402
    configure_offline, copy_project, example_layer_arn, example_stage, package,
)
from chalicelib.errors import CascadeError  # noqa: E402

GOAL_MS = 150.0
GOAL_RATIO = 0.5  # as shipped, at most this share of a plain package's `import boto3`
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


def own_code_only(project: Path) -> Path:
    """The project as shipped with the functions layer: no requirements for chalice to package, and the
    project's code compiled with checked-hash bytecode (chalice ships chalicelib/ whole, __pycache__ included)."""
    (project / layer.REQUIREMENTS).write_text("# every function's dependencies come from the functions layer\n")
    for target in (project / "chalicelib",):
        compileall.compile_dir(target, quiet=2, workers=0, ddir="/var/task/chalicelib",
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    return project


def measure(runs: int, report: Report) -> int:
    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cascade-cold-") as tmp:
        work = Path(tmp)
        stage = example_stage(STAGE)
        project = copy_project(ROOT, work / "project")
        configure_offline(project, stage, example_layer_arn(stage))
        fn_dir, layer_dir, shipped_dir, functions_dir = (work / "function", work / "layer", work / "shipped",
                                                         work / "functions-layer")
        try:
            zipfile.ZipFile(package(project, STAGE, work / "out") / "deployment.zip").extractall(fn_dir)
        except (CascadeError, OSError) as exc:
            print(f"skipped: cannot build the function package with `chalice package` ({exc})")
            return 0
        try:
            built = layer.build(ROOT)
            zipfile.ZipFile(built.path).extractall(layer_dir)
            zipfile.ZipFile(built.path).extractall(work / "layer-source-only")
            for cache in sorted((work / "layer-source-only").rglob("__pycache__")):
                shutil.rmtree(cache)
        except CascadeError as exc:
            missing.append(f"the tasks layer ({str(exc).splitlines()[0]})")
        try:
            zipfile.ZipFile(layer.build_functions(ROOT).path).extractall(functions_dir)
            lean = own_code_only(copy_project(ROOT, work / "project-lean"))
            configure_offline(lean, stage, example_layer_arn(stage))
            zipfile.ZipFile(package(lean, STAGE, work / "out-lean") / "deployment.zip").extractall(shipped_dir)
        except CascadeError as exc:
            missing.append(f"the functions layer ({str(exc).splitlines()[0]})")

        fn, trigger = [fn_dir], ["app", "chalicelib.trigger.handler"]
        runner, runner_pandas = ["app", "chalicelib.runtime.runner"], ["app", "chalicelib.runtime.runner", "pandas"]
        have_tasks, have_functions = layer_dir.is_dir(), shipped_dir.is_dir()
        shipped = [shipped_dir, functions_dir / "python"]
        rows = [
            ("baseline: import boto3 (plain chalice function zip)", *median_ms(fn, ["boto3"], work, runs)),
            ("plain zip: trigger, app + chalicelib.trigger.handler", *median_ms(fn, trigger, work, runs)),
        ]
        if have_functions:
            rows.append(("as shipped: trigger (own code + functions layer)", *median_ms(shipped, trigger, work, runs)))
        if have_tasks:
            rows.append(("plain zip: task runner + pandas (tasks layer)",
                         *median_ms([fn_dir, layer_dir / "python"], runner_pandas, work, runs)))
            rows.append(("  same, tasks layer without its bytecode",
                         *median_ms([fn_dir, work / "layer-source-only" / "python"], runner_pandas, work, runs)))
        if have_functions:
            rows.append(("as shipped: task runner, no pandas (+ tasks layer)",
                         *median_ms(shipped + ([layer_dir / "python"] if have_tasks else []), runner, work, runs)))
        trace = probe(shipped if have_functions else fn, trigger, importtime=True)

    table = report.table(f"median of {runs} fresh interpreters, Python {sys.version.split()[0]}, no bytecode written",
                         "import", "ms", "pandas imported")
    for name, ms, last in rows:
        table.add(name, round(ms, 1), last["loaded"]["pandas"])
    by = {name: (ms, last) for name, ms, last in rows}
    boto3_ms = rows[0][1]
    trigger_row = "as shipped: trigger (own code + functions layer)" if have_functions else rows[1][0]
    trigger_ms, trigger_last = by[trigger_row]
    report.goal(f"trigger import as shipped at most {GOAL_RATIO:g}x a plain package's import boto3",
                have_functions and trigger_ms <= GOAL_RATIO * boto3_ms,
                f"{trigger_ms:.0f} vs {boto3_ms:.0f} ms, {trigger_ms / boto3_ms:.2f}x")
    runner_row = "as shipped: task runner, no pandas (+ tasks layer)"
    if runner_row in by:
        runner_ms, runner_last = by[runner_row]
        report.goal(f"task runner import (no pandas) as shipped at most {GOAL_RATIO:g}x a plain package's import boto3",
                    runner_ms <= GOAL_RATIO * boto3_ms and not runner_last["loaded"]["pandas"],
                    f"{runner_ms:.0f} vs {boto3_ms:.0f} ms, {runner_ms / boto3_ms:.2f}x")
    report.goal(f"trigger import under {GOAL_MS:.0f} ms", trigger_ms <= GOAL_MS, f"{trigger_ms:.0f} ms")
    report.goal("pandas not imported on the trigger path", not trigger_last["loaded"]["pandas"],
                f"pandas imported: {trigger_last['loaded']['pandas']}")
    top = report.table("largest imports on the trigger path (cumulative ms, one run)", "package", "ms")
    for name, ms in top_imports(trace["importtime"]):
        top.add(name, ms)
    for m in missing:
        report.notes.append(f"skipped: cannot build {m}")
    return 1 if trigger_last["loaded"]["pandas"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    args = parser.parse_args(argv)
    report = Report("package_cold_start", "cold imports of the entry points from the built artifacts")
    code = measure(max(5, args.runs), report)
    emit(report, args.json)
    return code


if __name__ == "__main__":
    sys.exit(main())
