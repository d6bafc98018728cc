"""Sizes of what `chalice deploy` ships for each function, against Lambda's limits.

    python benchmarks/package_size.py [--json]

Builds what `python -m chalicelib deploy` uploads (chalicelib.deploy.build.build_stage: the function zip with
the project's own code, the functions layer, the tasks layer), then prints, per artifact and per function,
zipped and unzipped sizes against the limits:
50 MiB zipped for direct upload, 250 MiB unzipped for a function with all its layers. The baselines, measured
in the same run: one chalice package holding requirements.txt and requirements-tasks.txt together, and the same
with chalice's `automatic_layer` (which moves every dependency into one layer shared by all functions).
A requirement chalice cannot install for the runtime ("Could not install dependencies") fails the run.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.deploy import layer  # noqa: E402
from chalicelib.deploy.appinfo import app_info  # noqa: E402
from chalicelib.deploy.build import build_stage  # noqa: E402
from chalicelib.deploy.stage_config import TASK_CODE_FUNCTIONS  # noqa: E402
from chalicelib.deploy.workspace import (  # noqa: E402
    configure_offline, copy_project, example_stage, package, zip_sizes,
)

MiB = 2**20
STAGE = "bench"


def _row(name: str, zipped: int, unzipped: int, note: str = "") -> dict:
    return {"name": name, "zipped_bytes": zipped, "unzipped_bytes": unzipped,
            "zipped_ok": zipped <= layer.DIRECT_UPLOAD_LIMIT, "note": note}


def measure(work: Path) -> dict:
    stage = example_stage(STAGE)

    shipped = build_stage(ROOT, STAGE, stage.region, echo=None)
    functions = app_info(ROOT).functions
    fn_zipped, fn_unzipped = zip_sizes(shipped.code)
    built = layer.build(ROOT)
    common = layer.build_functions(ROOT)

    single = copy_project(ROOT, work / "single")
    (single / "requirements.txt").write_text((ROOT / "requirements.txt").read_text() + "\n"
                                              + (ROOT / "requirements-tasks.txt").read_text())
    configure_offline(single, stage, None)
    one_zipped, one_unzipped = zip_sizes(package(single, STAGE, work / "single-out") / "deployment.zip")

    managed = copy_project(single, work / "managed")  # the same, with chalice's automatic_layer
    config = json.loads((managed / ".chalice" / "config.json").read_text())
    (managed / ".chalice" / "config.json").write_text(json.dumps({**config, "automatic_layer": True}))
    configure_offline(managed, stage, None)
    managed_out = package(managed, STAGE, work / "managed-out")
    managed_zipped, managed_unzipped = zip_sizes(managed_out / "layer-deployment.zip")

    per_function = []
    for fn in functions:
        parts = [("function zip", fn_zipped, fn_unzipped),
                 ("functions layer", common.zipped_bytes, common.unzipped_bytes)]
        if fn in TASK_CODE_FUNCTIONS:
            parts.append(("tasks layer", built.zipped_bytes, built.unzipped_bytes))
        unzipped = sum(p[2] for p in parts)
        per_function.append({"function": fn, "parts": [p[0] for p in parts], "unzipped_bytes": unzipped,
                             "unzipped_ok": unzipped <= layer.UNZIPPED_LIMIT,
                             "largest_zip_ok": all(p[1] <= layer.DIRECT_UPLOAD_LIMIT for p in parts)})
    return {
        "runtime": layer.runtime(),
        "artifacts": [
            _row("function zip (the project's code, every function)", fn_zipped, fn_unzipped),
            _row("functions layer (requirements.txt, every function)", common.zipped_bytes, common.unzipped_bytes,
                 " ".join(f"{k}=={v}" for k, v in sorted(common.packages.items()))),
            _row("tasks layer (requirements-tasks.txt, task functions only)", built.zipped_bytes, built.unzipped_bytes,
                 " ".join(f"{k}=={v}" for k, v in sorted(built.packages.items()))),
            _row("baseline: one chalice package with both requirement files", one_zipped, one_unzipped),
            _row("baseline: the same with chalice automatic_layer: its layer", managed_zipped, managed_unzipped),
        ],
        "functions": per_function,
        "limits": {"direct_upload_zipped_bytes": layer.DIRECT_UPLOAD_LIMIT,
                   "function_with_layers_unzipped_bytes": layer.UNZIPPED_LIMIT},
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cascade-size-") as tmp:
        result = measure(Path(tmp))
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return 0
    print(f"runtime {result['runtime']}; limits: 50 MiB zipped (direct upload), 250 MiB unzipped (function + layers)")
    print(f"{'artifact':62} {'zipped':>14} {'unzipped':>12}  direct upload")
    for row in result["artifacts"]:
        print(f"{row['name']:62} {row['zipped_bytes'] / MiB:8.1f} MiB {row['unzipped_bytes'] / MiB:8.1f} MiB"
              f"  {'ok' if row['zipped_ok'] else 'OVER 50 MiB'}")
    print(f"\n{'function':20} {'ships':50} {'unzipped':>12}  of 250 MiB")
    for fn in result["functions"]:
        print(f"{fn['function']:20} {' + '.join(fn['parts']):50} {fn['unzipped_bytes'] / MiB:8.1f} MiB"
              f"  {100 * fn['unzipped_bytes'] / layer.UNZIPPED_LIMIT:5.1f} %{'' if fn['unzipped_ok'] else '  OVER'}")
    ok = all(f["unzipped_ok"] and f["largest_zip_ok"] for f in result["functions"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
