"""Cold import time of the Lambda entry points, from the packages the deploy ships.

    python -m benchmarks.package_cold_start [--runs 5] [--json]

Every row imports its modules in fresh interpreters that see only the unpacked packages and the standard
library (`python -S -P`, PYTHONPATH = function zip, then its layers, the order Lambda puts /var/task and
/opt/python in; -P and an empty working directory keep the checkout's own app.py and chalicelib/ off the
path) and write no bytecode (PYTHONDONTWRITEBYTECODE=1), as in Lambda, whose code directories are
read-only. The rows are measured round-robin (one run of each, then the next round), so a busy machine slows
them alike; each figure is the median of `--runs` rounds (at least 5), in wall-clock ms (what the goals use)
and in the interpreter's CPU ms (which other processes on the machine inflate less).

Baseline, in the same run: a plain `chalice package` of the project (requirements.txt in the function zip, as
`.py` without bytecode, so every cold start compiles it) and its `import boto3`, which any function calling
AWS pays. As shipped: the artifacts `python -m chalicelib deploy` uploads, built by the same code
(chalicelib.deploy.build.build_stage): the function zip with only the project's code and checked-hash
bytecode, the functions layer (requirements.txt compiled for the runtime) and, for the task runner, the tasks
layer; and the trigger's floor: chalice, boto3 and powertools from the same packages, without the project's
code; then the floor with `import pydantic`, which the trigger no longer pays (its classes are checked
msgspec Structs, chalicelib.checks), and with the task runner's event models (chalicelib.events.task, checked
Structs too): what the task runner's event boundary costs.
Each shipped row runs with the environment variables the built stack template gives its function (the trigger's,
or the task runner's: PYDANTIC_DISABLE_PLUGINS among them). Goals, medians in the same run:
the trigger's import (`app` + `chalicelib.trigger.handler`) and the task runner's (`app` +
`chalicelib.runtime.runner`, pandas not imported) each at most half of the baseline's `import boto3`; the
trigger under 150 ms.

The builds are cached under build/ (the layers by their requirement files, chalice's dependency zips in the
project copies), so a second run only repackages the project's code. A part whose pieces cannot be built here
(no `chalice`, no package index for the layers) says what is missing and is skipped.
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

from benchmarks.common import Report, emit  # noqa: E402
from chalicelib.deploy import layer  # noqa: E402
from chalicelib.deploy.build import build_stage, fresh_copy  # noqa: E402
from chalicelib.deploy.workspace import configure_offline, example_layer_arn, example_stage, package  # noqa: E402
from chalicelib.errors import CascadeError  # noqa: E402
from chalicelib.naming import TASK_RUNNER, TRIGGER  # noqa: E402

GOAL_MS = 150.0
GOAL_RATIO = 0.5  # as shipped, at most this share of a plain package's `import boto3`
STAGE = "bench"
# What the trigger imports besides pydantic and our code: how far pydantic's models are from the goal.
FLOOR = ["chalice.app", "boto3.dynamodb.types", "aws_lambda_powertools.logging", "msgspec"]
REGION = "us-east-1"
CACHE = ROOT / "build" / "bench" / "package_cold_start"  # the plain package's project copy (gitignored)

PROBE = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
for name in sys.argv[1:]:
    __import__(name)
t1, c1 = time.perf_counter(), time.process_time()
import importlib.util
print(json.dumps({"ms": 1000 * (t1 - t0), "cpu_ms": 1000 * (c1 - c0),
                  "files": {name: getattr(sys.modules[name], "__file__", None) for name in sys.argv[1:]},
                  "loaded": {m: m in sys.modules for m in ("pandas", "numpy", "boto3")},
                  "shipped": {m: importlib.util.find_spec(m) is not None for m in ("pandas", "numpy")}}))
"""


def function_environment(template: dict, function: str) -> dict[str, str]:
    """The environment variables the built stack template gives `function`: those with a plain value (the
    others are CloudFormation references to resources, names an import only passes along)."""
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        name = props.get("FunctionName")
        name = name.get("Fn::Sub", "") if isinstance(name, dict) else name
        if resource.get("Type") == "AWS::Lambda::Function" and isinstance(name, str) and name.endswith(f"-{function}"):
            variables = props.get("Environment", {}).get("Variables", {})
            return {k: v for k, v in variables.items() if isinstance(v, str)}
    raise SystemExit(f"the built template has no function {function!r}")


Row = tuple[str, list[Path], list[str], dict[str, str]]  # name, import paths, modules, function environment


def probe(paths: list[Path], modules: list[str], importtime: bool = False, function_env: dict[str, str] | None = None
          ) -> dict:
    """Import `modules` in a fresh interpreter that sees only `paths` and the standard library, with a
    function's environment variables (`function_env`)."""
    cmd = [sys.executable, "-S", "-P"] + (["-X", "importtime"] if importtime else [])
    env = {**(function_env or {}), "PYTHONPATH": ":".join(str(p) for p in paths), "PATH": "/usr/bin:/bin",
           "AWS_DEFAULT_REGION": REGION, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory(prefix="cascade-probe-") as cwd:
        proc = subprocess.run([*cmd, "-c", PROBE, *modules], capture_output=True, text=True, env=env, cwd=cwd)
    if proc.returncode != 0:
        raise SystemExit(f"import of {modules} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    strays = {name: file for name, file in result["files"].items()
              if file is not None and not any(Path(file).is_relative_to(p) for p in paths)}
    if strays:
        raise SystemExit(f"the probe imported {strays} from outside the packages {[str(p) for p in paths]}")
    result["importtime"] = proc.stderr
    return result


def round_robin(rows: list[Row], runs: int) -> list[tuple[str, float, dict]]:
    """(name, median ms, last probe) of each row, measured one round of every row at a time. The last probe
    carries the median CPU ms too (`cpu_ms`: the interpreter's own CPU time, which a busy machine inflates
    less than the clock)."""
    times: dict[str, list[float]] = {name: [] for name, _, _, _ in rows}
    cpu: dict[str, list[float]] = {name: [] for name, _, _, _ in rows}
    last: dict[str, dict] = {}
    for _ in range(runs):
        for name, paths, modules, function_env in rows:
            last[name] = probe(paths, modules, function_env=function_env)
            times[name].append(last[name]["ms"])
            cpu[name].append(last[name]["cpu_ms"])
    return [(name, statistics.median(times[name]), {**last[name], "cpu_ms": statistics.median(cpu[name])})
            for name, _, _, _ in rows]


def top_imports(importtime: str, count: int = 8) -> list[tuple[str, float]]:
    """Packages by the import time spent in their own modules (self time summed per top-level name)."""
    found: dict[str, float] = {}
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        if not own.strip().isdigit():
            continue
        top = name.strip().split(".")[0]
        found[top] = found.get(top, 0.0) + int(own) / 1000
    return sorted(found.items(), key=lambda kv: -kv[1])[:count]


def unpack(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def plain_package(work: Path) -> Path:
    """`chalice package` of the project as it is: requirements.txt in the function zip (chalice's dependency
    zip is kept in the cached copy, so only the first run installs it)."""
    stage = example_stage(STAGE)
    project = fresh_copy(ROOT, CACHE / "plain")
    configure_offline(project, stage, example_layer_arn(stage))
    out = work / "plain-out"
    return package(project, STAGE, out) / "deployment.zip"


def measure(runs: int, report: Report) -> int:
    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cascade-cold-") as tmp:
        work = Path(tmp)
        try:
            fn_dir = unpack(plain_package(work), work / "function")
        except (CascadeError, OSError) as exc:
            print(f"skipped: cannot build the function package with `chalice package` ({exc})")
            return 0
        layer_dir, shipped, functions_dir, template = None, None, None, {}
        try:
            built = build_stage(ROOT, STAGE, REGION, echo=None)
            template = built.template
            shipped = unpack(built.code, work / "shipped")
            functions_dir = unpack(built.functions_layer, work / "functions-layer") / "python"  # type: ignore[arg-type]
            layer_dir = unpack(built.layer, work / "tasks-layer") / "python"  # type: ignore[arg-type]
            source_only = Path(shutil.copytree(layer_dir, work / "tasks-layer-source-only"))
            for cache in sorted(source_only.rglob("__pycache__")):
                shutil.rmtree(cache)
        except CascadeError as exc:
            missing.append(f"the deployed packages ({str(exc).splitlines()[0]})")

        trigger = ["app", "chalicelib.trigger.handler"]
        runner, runner_pandas = ["app", "chalicelib.runtime.runner"], ["app", "chalicelib.runtime.runner", "pandas"]
        # The plain package's rows run without the functions' environment (a plain package sets none); the
        # shipped ones with the environment the built template gives their function.
        rows: list[Row] = [("baseline: import boto3 (plain chalice function zip)", [fn_dir], ["boto3"], {}),
                           ("plain zip: trigger, app + chalicelib.trigger.handler", [fn_dir], trigger, {})]
        if shipped is not None and functions_dir is not None and layer_dir is not None:
            trigger_env = function_environment(template, TRIGGER)
            runner_env = function_environment(template, TASK_RUNNER)
            rows += [("as shipped: trigger (own code + functions layer)", [shipped, functions_dir], trigger,
                      trigger_env),
                     ("  its floor: chalice, boto3, powertools, msgspec", [shipped, functions_dir], FLOOR, trigger_env),
                     ("  floor + import pydantic (not on the trigger path)", [shipped, functions_dir],
                      [*FLOOR, "pydantic"], trigger_env),
                     ("  floor + the runner's event models (no pydantic)", [shipped, functions_dir],
                      [*FLOOR, "chalicelib.events.task"], runner_env),
                     ("plain zip: task runner + pandas (tasks layer)", [fn_dir, layer_dir], runner_pandas, {}),
                     ("  same, tasks layer without its bytecode", [fn_dir, source_only], runner_pandas, {}),
                     ("as shipped: task runner, no pandas (+ both layers)", [shipped, functions_dir, layer_dir], runner,
                      runner_env)]
        measured = round_robin(rows, runs)
        trace_paths = [shipped, functions_dir] if shipped is not None else [fn_dir]
        trace = probe(trace_paths, trigger, importtime=True,  # type: ignore[arg-type]
                      function_env=function_environment(template, TRIGGER) if template else {})
        runner_trace = (probe([shipped, functions_dir, layer_dir], runner, importtime=True,  # type: ignore[list-item]
                              function_env=function_environment(template, TASK_RUNNER))
                        if shipped is not None and layer_dir is not None else None)

    table = report.table(f"median of {runs} fresh interpreters (round-robin), Python {sys.version.split()[0]}, "
                         f"no bytecode written", "import", "ms", "x baseline", "cpu ms", "cpu x baseline",
                         "pandas imported")
    base_ms, base_cpu = measured[0][1], measured[0][2]["cpu_ms"]
    for name, ms, last in measured:
        table.add(name, round(ms, 1), round(ms / base_ms, 2), round(last["cpu_ms"], 1),
                  round(last["cpu_ms"] / base_cpu, 2), last["loaded"]["pandas"])
    by = {name: (ms, last) for name, ms, last in measured}
    boto3_ms = measured[0][1]
    have_shipped = "as shipped: trigger (own code + functions layer)" in by
    trigger_ms, trigger_last = by["as shipped: trigger (own code + functions layer)" if have_shipped else measured[1][0]]
    if have_shipped:  # otherwise the note below says what could not be built, and the summary shows it skipped
        report.goal(f"trigger import as shipped at most {GOAL_RATIO:g}x a plain package's import boto3",
                    trigger_ms <= GOAL_RATIO * boto3_ms, f"{trigger_ms:.0f} vs {boto3_ms:.0f} ms, {trigger_ms / boto3_ms:.2f}x")
        runner_ms, runner_last = by["as shipped: task runner, no pandas (+ both layers)"]
        report.goal(f"task runner import (no pandas) as shipped at most {GOAL_RATIO:g}x a plain package's import boto3",
                    runner_ms <= GOAL_RATIO * boto3_ms and not runner_last["loaded"]["pandas"],
                    f"{runner_ms:.0f} vs {boto3_ms:.0f} ms, {runner_ms / boto3_ms:.2f}x")
        report.goal(f"trigger import as shipped under {GOAL_MS:.0f} ms", trigger_ms <= GOAL_MS, f"{trigger_ms:.0f} ms")
    report.goal("pandas not imported on the trigger path", not trigger_last["loaded"]["pandas"],
                f"pandas imported: {trigger_last['loaded']['pandas']}")
    top = report.table("the trigger's import as shipped by package (self ms summed, one run: -X importtime)",
                       "package", "ms")
    for name, ms in top_imports(trace["importtime"]):
        top.add(name, round(ms, 1))
    if runner_trace is not None:
        top = report.table("the task runner's import as shipped by package (self ms summed, one run: -X importtime)",
                           "package", "ms")
        for name, ms in top_imports(runner_trace["importtime"], count=10):
            top.add(name, round(ms, 1))
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
