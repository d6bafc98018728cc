"""(6) Cold start: import time of each Lambda handler's import path, in a fresh interpreter (`python -X importtime`).

The trigger Lambda imports `app` and, on its first event, `chalicelib.trigger.handler`; the task runner imports
`app` and `chalicelib.runtime.runner`. Each is measured on a copy of the sources in a temporary directory:
  * pyc:          our modules compiled to .pyc beforehand, like every dependency;
  * our .py:      our modules without .pyc, dependencies with .pyc;
  * all .py:      our modules and every dependency without .pyc (only the standard library keeps its .pyc),
                  which is how a plain chalice package runs on every cold start.
The deploy ships the "pyc" case: the function zip with our modules' bytecode and the functions layer with the
dependencies' (benchmarks/package_cold_start.py measures those artifacts themselves).
Baseline: the third-party floor every such handler pays in the same run: chalice, boto3, and pydantic with one model.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Report, emit, parser

PATHS = {
    "trigger": "import app, chalicelib.trigger.handler",
    "task runner": "import app, chalicelib.runtime.runner",
    "trigger, pydantic imported first": "import pydantic, app, chalicelib.trigger.handler",
    # pydantic loads most of itself when the first model is defined, so the floor defines one
    "baseline: chalice + boto3 + pydantic":
        "import chalice.app, boto3, pydantic; pydantic.create_model('M', a=(int, 0))",
}
RUNS = {"pyc": 9, "our .py": 5, "all .py": 3}  # fresh interpreters per path and mode (medians; the goal takes the fastest pyc)
GOAL_MS = 150.0
LIST_OVER_MS = 10.0
MARK = "@@measure"
GROUPS = [
    ("ours (chalicelib, app)", ("chalicelib", "app")),
    ("boto3 / botocore", ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")),
    ("pydantic", ("pydantic", "pydantic_core", "annotated_types", "typing_extensions", "typing_inspection")),
    ("powertools", ("aws_lambda_powertools",)),
    ("chalice", ("chalice",)),
]


def copy_sources(dest: Path) -> None:
    shutil.copy2(ROOT / "app.py", dest / "app.py")
    shutil.copytree(ROOT / "chalicelib", dest / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def importtime(statement: str, cwd: Path, env: dict[str, str], extra: list[str]) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, indented name) of each module `statement` imports, in import order."""
    code = f"import sys; sys.stderr.write('{MARK}\\n'); {statement}"
    proc = subprocess.run([sys.executable, *extra, "-X", "importtime", "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{statement!r} failed in {cwd}: {proc.stderr[-2000:]}")
    lines = proc.stderr.split(MARK + "\n", 1)[1].splitlines()
    out = []
    for line in lines:
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, name = line[len("import time:"):].split("|", 2)
        if own.strip().startswith("self"):
            continue
        out.append((int(own), int(cumulative), name[1:].rstrip()))
    return out


def total_ms(rows: list[tuple[int, int, str]]) -> float:
    return sum(c for _, c, name in rows if not name.startswith(" ")) / 1000


def group_ms(rows: list[tuple[int, int, str]]) -> dict[str, float]:
    out = {label: 0.0 for label, _ in GROUPS}
    out["standard library"] = 0.0
    out["other"] = 0.0
    for own, _, name in rows:
        top = name.strip().split(".")[0]
        for label, tops in GROUPS:
            if top in tops:
                out[label] += own / 1000
                break
        else:
            out["standard library" if top in sys.stdlib_module_names else "other"] += own / 1000
    return out


def modules_loaded(statement: str, cwd: Path, env: dict[str, str]) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return set(proc.stdout.split())


def run() -> Report:
    report = Report("cold_start", "import time of each Lambda handler path in a fresh interpreter")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        dirs = {mode: base / mode.replace(" ", "_").replace(".", "") for mode in RUNS}
        for d in dirs.values():
            d.mkdir()
            copy_sources(d)
        compileall.compile_dir(str(dirs["pyc"]), quiet=1)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env_no_write = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        # "all .py": an empty pycache prefix hides every .pyc; the standard library's are put back by one warm-up.
        prefix = base / "pycache"
        stdlib = sorted({name.strip() for stmt in PATHS.values()
                         for _, _, name in importtime(stmt, dirs["pyc"], env_no_write, [])
                         if name.strip().split(".")[0] in sys.stdlib_module_names})
        warm = "\n".join(f"try:\n import {m}\nexcept Exception:\n pass" for m in stdlib)
        subprocess.run([sys.executable, "-X", f"pycache_prefix={prefix}", "-c", warm], env=env, check=True,
                       cwd=base)
        extra = {"pyc": [], "our .py": [], "all .py": ["-B", "-X", f"pycache_prefix={prefix}"]}

        totals: dict[tuple[str, str], float] = {}
        fastest: dict[str, float] = {}
        typical: dict[str, list[tuple[int, int, str]]] = {}
        for mode, runs in RUNS.items():
            print(f"  {mode}: {runs} rounds ...", file=sys.stderr, flush=True)
            samples: dict[str, list[list[tuple[int, int, str]]]] = {label: [] for label in PATHS}
            for _ in range(runs):  # rounds interleave the paths, so they share the machine's moods
                for label, statement in PATHS.items():
                    samples[label].append(importtime(statement, dirs[mode], env_no_write, extra[mode]))
            for label, runs_of_path in samples.items():
                runs_of_path.sort(key=total_ms)
                totals[(label, mode)] = statistics.median(total_ms(r) for r in runs_of_path)
                if mode == "pyc":
                    typical[label] = runs_of_path[len(runs_of_path) // 2]
                    fastest[label] = total_ms(runs_of_path[0])
        loaded = {label: modules_loaded(PATHS[label], dirs["pyc"], env_no_write)
                  for label in ("trigger", "task runner")}

    floor = "baseline: chalice + boto3 + pydantic"
    table = report.table("import time, ms (median of fresh interpreters; 'fastest' = least disturbed run)",
                         "import path", "pyc", "pyc fastest", *list(RUNS)[1:], "pyc vs baseline", "modules", "pandas")
    for label in PATHS:
        ratio = round(totals[(label, "pyc")] / totals[(floor, "pyc")], 2)
        mods = loaded.get(label)
        table.add(label, round(totals[(label, "pyc")], 1), round(fastest[label], 1),
                  *(round(totals[(label, m)], 1) for m in list(RUNS)[1:]), ratio, len(mods) if mods else None,
                  ("imported" if "pandas" in mods else "no") if mods else None)
    groups = report.table("where the time goes (pyc, self time summed by package, median run), ms", "package",
                          *(k for k in PATHS if k != floor))
    split = {label: group_ms(typical[label]) for label in PATHS if label != floor}
    for package in next(iter(split.values())):
        groups.add(package, *(round(split[label][package], 1) for label in split))
    for label in ("trigger", "task runner"):
        heavy = report.table(f"{label}: modules over {LIST_OVER_MS:g} ms (cumulative, pyc, median run)", "module", "ms")
        for _, cumulative, name in typical[label]:
            if cumulative / 1000 > LIST_OVER_MS:
                heavy.add(name, round(cumulative / 1000, 1))
    trigger_ms = fastest["trigger"]
    report.goal(f"trigger import path under {GOAL_MS:g} ms (pyc, fastest of {RUNS['pyc']})", trigger_ms < GOAL_MS,
                f"{round(trigger_ms, 1)} ms (median {round(totals[('trigger', 'pyc')], 1)} ms)")
    report.goal("no pandas on either handler path", all("pandas" not in m for m in loaded.values()),
                {k: ("pandas" in v) for k, v in loaded.items()})
    report.notes.append("'trigger, pydantic imported first': powertools' batch utility imports all of its pydantic "
                        "event models when pydantic is already loaded; the trigger no longer imports that utility")
    report.notes.append(f"load average during the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
                        f"on {os.cpu_count()} CPUs (other processes inflate these times)")
    return report


def main(argv: list[str] | None = None) -> Any:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    emit(run(), args.json)


if __name__ == "__main__":
    main()
