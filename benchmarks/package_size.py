"""Sizes of what a deploy ships for each function, against Lambda's limits.

    python benchmarks/package_size.py [--json]

Builds the stage with `chalicelib.deploy.build.build_stage` (the function zip with the project's own code, the
functions layer and the tasks layer a deploy uploads, layers
reused from build/layers when their requirement files have not changed), then prints, per package and per
function as the template wires them (benchmarks/stack_figures.py), zipped and unzipped sizes against the
limits: 50 MiB zipped for direct upload, 250 MiB unzipped for a function with all its layers. The baselines,
measured in the same run: one chalice package holding requirements.txt and requirements-tasks.txt together,
and the same with chalice's `automatic_layer` (which moves every dependency into one layer shared by all
functions). A requirement chalice cannot install for the runtime ("Could not install dependencies") fails the run.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.stack_figures import shipped  # noqa: E402
from chalicelib.deploy import layer  # noqa: E402
from chalicelib.deploy.build import build_stage  # noqa: E402
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

    built = build_stage(ROOT, STAGE, "us-east-1", echo=None)
    packages, functions = shipped(built, ROOT)

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

    zipped = {("code" if i == 0 else p.name.removeprefix("layer ")): p.zipped_bytes or 0
              for i, p in enumerate(packages)}  # shipped(): the code first, then "layer <logical id>"
    per_function = [{"function": fn.function, "parts": fn.parts, "unzipped_bytes": fn.unzipped_bytes,
                     "unzipped_ok": fn.unzipped_bytes <= layer.UNZIPPED_LIMIT and not fn.unknown,
                     "largest_zip_ok": all(zipped.get(part, 0) <= layer.DIRECT_UPLOAD_LIMIT for part in fn.parts)}
                    for fn in functions]
    return {
        "runtime": layer.runtime(),
        "artifacts": [_row(p.name, p.zipped_bytes or 0, p.unzipped_bytes or 0) for p in packages] + [
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
