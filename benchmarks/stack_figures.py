"""The stage stack against CloudFormation's and Lambda's limits, from what `build_stage` builds (offline, no AWS).

    python -m benchmarks.stack_figures [--json] [--cold]

Builds the stage template and packages with `chalicelib.deploy.build.build_stage` (layers are reused from
build/layers when their requirement files have not changed; `--cold` builds in a fresh copy of the project, so
nothing is reused), then reports:
  * the template's resources by type, against CloudFormation's 500 per stack, and its body (the canonical JSON
    deploy sends) against 51,200 bytes inline (a larger one goes through the stage bucket) and 1 MB from S3;
  * each function's code and layers as the template wires them (a layer's zip found by the content hash in its
    S3 key), zipped against 50 MiB for a direct upload and unzipped against 250 MiB for a function with all its
    layers;
  * each function's environment variables, intrinsics resolved with the longest values they can take (a
    20-character stage, a 14-character region), against Lambda's 4 KB.
Without what the build needs (pip cannot reach a package index, chalice missing), it says what is missing,
skips the figures and exits 0.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from benchmarks.common import ROOT, Report, emit, parser

MiB = 2**20
STAGE = "bench"
REGION = "us-east-1"
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
MAX_RESOURCES = 500
TEMPLATE_S3_LIMIT = 1_000_000  # "1 MB" for a template body in S3
MAX_OUTPUTS = 200
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
ENV_LIMIT = 4 * 1024  # all keys and values of a function's environment together
# the longest values the intrinsics can take (stage names stop at 20 characters: chalicelib/deploy/sequence.py)
LONGEST = {"AWS::AccountId": "123456789012", "AWS::Region": "ap-southeast-2", "AWS::Partition": "aws-us-gov",
           "AWS::URLSuffix": "amazonaws.com", "Stage": "s" * 20}


def zip_sizes(path: Path) -> tuple[int, int]:
    with zipfile.ZipFile(path) as zf:
        return path.stat().st_size, sum(i.file_size for i in zf.infolist())


# -- resolving intrinsics to their longest values (pure) --------------------------------------------------------
def resolve(value: Any, resources: dict[str, Any], names: dict[str, str]) -> str:
    """A template value as the longest string it can become: `Fn::Sub`, `Ref` and `Fn::GetAtt` resolved with
    `names` (parameters and pseudo parameters) and the resources' own naming properties."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        local: dict[str, Any] = {}
        if isinstance(text, list):
            text, local = text
        return re.sub(r"\$\{([^}]+)\}", lambda m: _variable(m.group(1), local, resources, names), text)
    if isinstance(value, dict) and "Ref" in value:
        return _variable(value["Ref"], {}, resources, names)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        target = target.split(".", 1) if isinstance(target, str) else target
        return _variable(".".join(target), {}, resources, names)
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(resolve(p, resources, names) for p in parts)
    return json.dumps(value)


def _variable(name: str, local: dict[str, Any], resources: dict[str, Any], names: dict[str, str]) -> str:
    if name in local:
        return resolve(local[name], resources, names)
    if name in names:
        return names[name]
    logical, _, attribute = name.partition(".")
    resource = resources.get(logical)
    if resource is None:
        return f"<{name}>"
    kind, props = resource.get("Type", ""), resource.get("Properties", {})
    region, account = names["AWS::Region"], names["AWS::AccountId"]
    if kind == "AWS::DynamoDB::Table":
        table = resolve(props.get("TableName", logical), resources, names)
        if attribute == "StreamArn":
            return (f"arn:{names['AWS::Partition']}:dynamodb:{region}:{account}:table/{table}"
                    f"/stream/2026-01-01T00:00:00.000")
        if attribute == "Arn":
            return f"arn:{names['AWS::Partition']}:dynamodb:{region}:{account}:table/{table}"
        return table
    if kind == "AWS::SQS::Queue":
        queue = resolve(props.get("QueueName", logical), resources, names)
        if attribute == "Arn":
            return f"arn:{names['AWS::Partition']}:sqs:{region}:{account}:{queue}"
        return f"https://sqs.{region}.{names['AWS::URLSuffix']}/{account}/{queue}"
    if kind == "AWS::S3::Bucket":
        return resolve(props.get("BucketName", logical), resources, names)
    return "x" * 128  # an ARN or id of another kind: a generous length


def env_bytes(variables: dict[str, Any], resources: dict[str, Any], names: dict[str, str], stage: str) -> int:
    """Bytes of a function's environment as Lambda counts them, every key and value, with the stage name the
    template spells out replaced by the longest one."""
    return sum(len(k.encode()) + len(resolve(v, resources, names).replace(stage, names["Stage"]).encode())
               for k, v in variables.items())


def resource_counts(template: dict[str, Any]) -> Counter:
    return Counter(r.get("Type", "?") for r in template.get("Resources", {}).values())


# -- the build -------------------------------------------------------------------------------------------
def build(project: Path) -> tuple[Any, float, bool]:
    """(Built, seconds, whether the layers came from build/layers)."""
    from chalicelib.deploy import layer
    from chalicelib.deploy.build import build_stage

    before = set((project / layer.BUILD_DIR).glob("*.zip"))
    t0 = time.monotonic()
    built = build_stage(project, STAGE, REGION, echo=None)
    return built, time.monotonic() - t0, set((project / layer.BUILD_DIR).glob("*.zip")) <= before


def layer_zips(project: Path) -> dict[str, Path]:
    """Layer zips under build/layers by their sha256 (from the build's metadata next to each zip)."""
    from chalicelib.deploy import layer

    out = {}
    for meta in (project / layer.BUILD_DIR).glob("*.json"):
        try:
            info = json.loads(meta.read_text())
        except ValueError:
            continue
        if "sha256" in info and meta.with_suffix(".zip").is_file():
            out[info["sha256"]] = meta.with_suffix(".zip")
    return out


# -- what each function ships, as the template wires it ---------------------------------------------------------
class Shipped(BaseModel):
    """A package (the function code or a layer) and its sizes; None where its zip is not on disk."""

    name: str
    zipped_bytes: int | None
    unzipped_bytes: int | None


class FunctionShips(BaseModel):
    function: str  # the template's logical id
    memory_mb: int | None
    parts: list[str]  # "code", then its layers' logical ids (or "a layer by ARN")
    unzipped_bytes: int
    unknown: list[str]  # parts whose sizes are not known
    env_bytes: int


def shipped(built: Any, project: Path) -> tuple[list[Shipped], list[FunctionShips]]:
    """The packages a built stage ships and, per function, its code plus layers and its environment's size."""
    template = built.template
    resources = template.get("Resources", {})
    zips = {built.code_key: built.code}
    for sha, path in layer_zips(project).items():
        zips[f"deploy/layers/{sha}.zip"] = path
    if built.layer is not None and built.layer_key:
        zips[built.layer_key] = built.layer
    sizes = {key: zip_sizes(path) for key, path in zips.items() if path.is_file()}
    code = sizes.get(built.code_key, (None, None))
    packages = [Shipped(name=f"function code ({built.code.name})", zipped_bytes=code[0], unzipped_bytes=code[1])]
    layers: dict[str, tuple[int, int] | None] = {}
    for logical, r in sorted(resources.items()):
        if r.get("Type") == "AWS::Lambda::LayerVersion":
            size = sizes.get(r["Properties"].get("Content", {}).get("S3Key", ""))
            layers[logical] = size
            packages.append(Shipped(name=f"layer {logical}", zipped_bytes=size[0] if size else None,
                                    unzipped_bytes=size[1] if size else None))
    names = {**LONGEST, **{k: v for k, v in built.parameters.items() if k != "Stage"}}
    functions = []
    for logical, r in sorted(resources.items()):
        if r.get("Type") != "AWS::Lambda::Function":
            continue
        props = r["Properties"]
        parts, unknown, total = ["code"], [], 0
        own = sizes.get(props.get("Code", {}).get("S3Key", ""))
        if own is None:
            unknown.append("code")
        else:
            total += own[1]
        for ref in props.get("Layers", []):
            target = ref.get("Ref") if isinstance(ref, dict) else None
            parts.append(target or "a layer by ARN")
            size = layers.get(target) if target else None
            if size is None:
                unknown.append(target or str(ref))
            else:
                total += size[1]
        functions.append(FunctionShips(
            function=logical, memory_mb=props.get("MemorySize"), parts=parts, unzipped_bytes=total, unknown=unknown,
            env_bytes=env_bytes(props.get("Environment", {}).get("Variables", {}), resources, names, built.stage)))
    return packages, functions


def run(cold: bool = False) -> Report:
    """`cold`: build in a fresh copy of the project (removed afterwards), so nothing is reused."""
    if not cold:
        return figures(ROOT, cold)
    from chalicelib.deploy.workspace import copy_project

    scratch = Path(tempfile.mkdtemp(prefix="cascade-figures-"))
    try:
        return figures(copy_project(ROOT, scratch / "project"), cold)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def figures(project: Path, cold: bool) -> Report:
    from chalicelib.deploy import layer
    from chalicelib.deploy.errors import DeployError
    from chalicelib.deploy.stack import TEMPLATE_BODY_LIMIT
    from chalicelib.deploy.template import dumps
    from chalicelib.errors import CascadeError

    report = Report("stack_figures", f"stage {STAGE!r} template and packages against CloudFormation's and "
                                     f"Lambda's limits")
    print("  building the stage (build_stage) ...", file=sys.stderr, flush=True)
    try:
        built, seconds, cached = build(project)
    except (CascadeError, DeployError, OSError) as exc:
        said = " / ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        report.notes.append(f"SKIPPED: the stage could not be built offline here ({type(exc).__name__}: "
                            f"{said[:600]}); the build needs pip with a package index (or wheels) for the layers "
                            f"and chalice for the package")
        return report
    how = "cold: nothing reused" if cold else "layers reused from build/layers" if cached else "layers built now"
    report.notes.append(f"build_stage took {seconds:.0f} s ({how}); template {built.path.relative_to(project)}")

    template = built.template
    resources = template.get("Resources", {})
    counts = resource_counts(template)
    by_type = report.table(f"template resources by type ({sum(counts.values())} of {MAX_RESOURCES})",
                           "type", "count")
    for kind, n in counts.most_common():
        by_type.add(kind, n)
    body = len(dumps(template).encode())
    limits = report.table("the template against CloudFormation's limits", "what", "figure", "limit", "share")
    limits.add("resources", sum(counts.values()), MAX_RESOURCES, f"{sum(counts.values()) / MAX_RESOURCES:.0%}")
    limits.add("body bytes (canonical JSON, as deploy sends it), inline", body, TEMPLATE_BODY_LIMIT,
               f"{body / TEMPLATE_BODY_LIMIT:.0%}")
    limits.add("body bytes, from S3", body, TEMPLATE_S3_LIMIT, f"{body / TEMPLATE_S3_LIMIT:.0%}")
    outputs = len(template.get("Outputs", {}))
    limits.add("outputs", outputs, MAX_OUTPUTS, f"{outputs / MAX_OUTPUTS:.0%}")
    report.goal(f"template resources within {MAX_RESOURCES}", sum(counts.values()) <= MAX_RESOURCES,
                sum(counts.values()))
    if body > 0.8 * TEMPLATE_BODY_LIMIT:
        report.notes.append(f"the body is {body / TEMPLATE_BODY_LIMIT:.0%} of the inline limit: a few more functions "
                            f"(about {body // max(1, sum(counts.values())):,} bytes per resource) send it through the "
                            f"stage bucket, which deploy does by itself (chalicelib/deploy/sequence.py template_url)")
    report.goal(f"template body within {TEMPLATE_S3_LIMIT:,} bytes (through S3 past {TEMPLATE_BODY_LIMIT:,})",
                body <= TEMPLATE_S3_LIMIT,
                f"{body:,} bytes ({'inline' if body <= TEMPLATE_BODY_LIMIT else 'through the stage bucket'})")

    # -- packages as the template wires them -------------------------------------------------------------
    packages, functions = shipped(built, project)
    art = report.table("packages", "artifact", "zipped MiB", "unzipped MiB", "direct upload (50 MiB)")
    for pkg in packages:
        if pkg.zipped_bytes is None or pkg.unzipped_bytes is None:
            art.add(f"{pkg.name} (zip not found under build/)", None, None, "-")
            continue
        art.add(pkg.name, round(pkg.zipped_bytes / MiB, 1), round(pkg.unzipped_bytes / MiB, 1),
                "ok" if pkg.zipped_bytes <= layer.DIRECT_UPLOAD_LIMIT else "over: uploaded through S3")
    fns = report.table(f"functions: code + layers unzipped (limit {layer.UNZIPPED_LIMIT // MiB} MiB) and "
                       f"environment (limit {ENV_LIMIT:,} bytes, longest values)", "function", "memory MB",
                       "ships", "unzipped MiB", "of 250 MiB", "env bytes", "of 4 KB")
    for fn in functions:
        fns.add(fn.function, fn.memory_mb, " + ".join(fn.parts), round(fn.unzipped_bytes / MiB, 1),
                f"{fn.unzipped_bytes / layer.UNZIPPED_LIMIT:.0%}", fn.env_bytes, f"{fn.env_bytes / ENV_LIMIT:.0%}")
    unknown = [f"{fn.function} {part}" for fn in functions for part in fn.unknown]
    worst_unzipped = max((fn.unzipped_bytes for fn in functions), default=0)
    worst_env = max((fn.env_bytes for fn in functions), default=0)
    report.goal(f"every function with its layers within {layer.UNZIPPED_LIMIT // MiB} MiB unzipped",
                worst_unzipped <= layer.UNZIPPED_LIMIT and not unknown,
                f"largest {worst_unzipped / MiB:.1f} MiB"
                + (f"; sizes unknown: {', '.join(unknown)}" if unknown else ""))
    report.goal(f"every function's environment within {ENV_LIMIT:,} bytes", worst_env <= ENV_LIMIT,
                f"largest {worst_env:,} bytes")
    biggest_zip = max(p.zipped_bytes or 0 for p in packages)
    report.notes.append(f"largest zip {biggest_zip / MiB:.1f} MiB: deploy uploads code and layers to the stage bucket, "
                        f"where only the 250 MiB unzipped limit applies; 50 MiB is the limit of a direct upload")
    return report


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--cold", action="store_true", help="build in a fresh copy of the project (nothing reused)")
    args = p.parse_args(argv)
    emit(run(args.cold), args.json)


if __name__ == "__main__":
    main()
