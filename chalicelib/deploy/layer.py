"""Lambda layers built for the Lambda runtime. The tasks layer: what task code imports (requirements-tasks.txt:
pandas, numpy, a parquet engine), attached only to the functions that run task code. The functions layer
(`build_functions`): what every function imports (requirements.txt), with bytecode, for function zips that
ship only the project's own code.

Why not chalice's own packaging for these: one chalice package with everything is over Lambda's 50 MiB
direct-upload limit (see benchmarks/package_size.py), chalice's `automatic_layer` puts the same bytes into one
layer shared by every function (the trigger too), and it republishes that layer on every deploy. This layer is
content-addressed: its zip is deterministic, its sha256 is in the layer version's description, and a deploy
publishes a new version only when the content changed.

Packages that requirements.txt already ships (chalice puts them in every function) are resolved once, with
the same versions, and left out of the tasks layer, so the two never hold different copies of one package.

Both layers ship bytecode: Lambda's code directories are read-only, so modules without a `.pyc` are compiled on
every cold start (pandas: seconds). Bytecode is compiled for the runtime's Python with unchecked-hash
invalidation (valid whatever the file times after unzipping), and package test suites, which nothing imports
at run time, are left out to make room for it.
"""

from __future__ import annotations

import compileall
import hashlib
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chalicelib.deploy.errors import PackagingError

REQUIREMENTS = "requirements.txt"
TASK_REQUIREMENTS = "requirements-tasks.txt"
BUILD_DIR = Path("build") / "layers"
ARCHITECTURE = "x86_64"
FORMAT = "2"  # bump when the layer's layout or build options change
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # bytes of zip Lambda accepts inline; larger goes through S3
UNZIPPED_LIMIT = 250 * 1024 * 1024  # function + all its layers, unzipped
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
LAMBDA_PATH = "/opt/python"  # where Lambda puts a layer's python/ folder


def runtime() -> str:
    """The Lambda runtime chalice targets: the Python running it."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def glibc_minor(rt: str) -> int:
    """glibc of the runtime's OS: Amazon Linux 2 (2.26) up to python3.11, Amazon Linux 2023 (2.34) after."""
    minor = int(rt.removeprefix("python3."))
    return 26 if minor <= 11 else 34


def platform_args(rt: str) -> list[str]:
    """pip options that accept exactly the wheels chalice would accept for this runtime."""
    tags = [f"manylinux_2_{m}_{ARCHITECTURE}" for m in range(glibc_minor(rt), 4, -1)]
    tags += [f"manylinux2014_{ARCHITECTURE}", f"manylinux2010_{ARCHITECTURE}", f"manylinux1_{ARCHITECTURE}"]
    version = rt.removeprefix("python")
    abi = "cp" + version.replace(".", "")
    args = ["--implementation", "cp", "--python-version", version, "--abi", abi, "--only-binary=:all:"]
    for tag in tags:
        args += ["--platform", tag]
    return args


class LayerBuild(BaseModel):
    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    packages: dict[str, str]  # name → version inside the layer
    shared: dict[str, str]  # name → version left to requirements.txt


def _pip(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise PackagingError(f"pip could not install the tasks layer for the Lambda runtime:\n{tail}\n"
                             f"Pin versions that publish manylinux wheels for this runtime in {TASK_REQUIREMENTS}.")


def _resolve(requirements: Path, rt: str, scratch: Path) -> dict[str, str]:
    report = scratch / "report.json"
    _pip(["install", "--dry-run", "--ignore-installed", "--target", str(scratch / "none"), "--report", str(report),
          *platform_args(rt), "-r", str(requirements)])
    data = json.loads(report.read_text())
    return {_norm(i["metadata"]["name"]): i["metadata"]["version"] for i in data["install"]}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _installed(site: Path) -> dict[str, Path]:
    """dist name → its .dist-info folder."""
    found = {}
    for info in site.glob("*.dist-info"):
        meta = (info / "METADATA").read_text(errors="replace")
        name = next(line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Name:"))
        found[_norm(name)] = info
    return found


def _remove_dist(site: Path, info: Path) -> None:
    for line in (info / "RECORD").read_text().splitlines():
        rel = line.rsplit(",", 2)[0]
        target = (site / rel).resolve()
        if target.is_file() and site.resolve() in target.parents:
            target.unlink()
    shutil.rmtree(info, ignore_errors=True)
    for folder in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()


def _strip_tests(site: Path) -> None:
    """Remove `tests` folders inside packages (pandas/tests alone is 25 MiB of sources)."""
    for folder in sorted(site.glob("*/**/tests"), key=lambda p: len(p.parts)):
        if folder.is_dir() and (folder.parent / "__init__.py").is_file():
            shutil.rmtree(folder)


def _zip(root: Path, dest: Path) -> int:
    """A deterministic zip of `root` (sorted entries, fixed times and modes). Returns unzipped bytes."""
    total = 0
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            total += len(data)
            zf.writestr(info, data)
    return total


def cache_key(project: Path, rt: str) -> str:
    h = hashlib.sha256()
    for part in (FORMAT, rt, ARCHITECTURE, (project / REQUIREMENTS).read_text(),
                 (project / TASK_REQUIREMENTS).read_text()):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def functions_cache_key(project: Path, rt: str) -> str:
    h = hashlib.sha256()
    for part in ("functions", FORMAT, rt, ARCHITECTURE, (project / REQUIREMENTS).read_text()):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def build(project: Path, rt: str | None = None) -> LayerBuild:
    """Build the tasks layer zip (or reuse the one built from the same requirement files)."""
    rt = rt or runtime()
    if not (project / TASK_REQUIREMENTS).is_file():
        raise PackagingError(f"{project / TASK_REQUIREMENTS} is missing; it lists what task code imports")
    return _build(project, rt, f"tasks-{cache_key(project, rt)}", project / TASK_REQUIREMENTS,
                  shared_with=project / REQUIREMENTS)


def build_functions(project: Path, rt: str | None = None) -> LayerBuild:
    """Build the functions layer: what every function imports (requirements.txt), with bytecode compiled for
    the runtime, for function zips that ship only the project's own code."""
    rt = rt or runtime()
    if not (project / REQUIREMENTS).is_file():
        raise PackagingError(f"{project / REQUIREMENTS} is missing; it lists what every function imports")
    return _build(project, rt, f"functions-{functions_cache_key(project, rt)}", project / REQUIREMENTS)


def _build(project: Path, rt: str, stem: str, requirements: Path, shared_with: Path | None = None) -> LayerBuild:
    """A layer of `requirements` for runtime `rt`, without the packages `shared_with` resolves to (cached by
    `stem` under build/layers)."""
    out_dir = project / BUILD_DIR
    zip_path, meta_path = out_dir / f"{stem}.zip", out_dir / f"{stem}.json"
    if zip_path.is_file() and meta_path.is_file():
        return LayerBuild.model_validate_json(meta_path.read_text()).model_copy(update={"path": zip_path})
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cascade-layer-") as tmp:
        scratch = Path(tmp)
        shared = _resolve(shared_with, rt, scratch) if shared_with is not None else {}
        constraints = scratch / "constraints.txt"
        constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(shared.items())))
        site = scratch / "layer" / "python"
        _pip(["install", "--target", str(site), "--no-compile", "--ignore-installed", *platform_args(rt),
              "-r", str(requirements), "-c", str(constraints)])
        shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: nothing runs them in Lambda
        installed = _installed(site)
        for name in set(installed) & set(shared):
            _remove_dist(site, installed.pop(name))
        _strip_tests(site)
        if rt == runtime():  # bytecode is only valid for the interpreter that compiles it
            # ddir: the path Lambda unpacks the layer to, recorded in the bytecode instead of this temp dir
            compileall.compile_dir(site, quiet=2, workers=0, ddir=LAMBDA_PATH,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        packages = {}
        for name, info in sorted(installed.items()):
            packages[name] = info.name.removesuffix(".dist-info").rsplit("-", 1)[1]
        partial = zip_path.with_suffix(".partial")
        unzipped = _zip(scratch / "layer", partial)
        os.replace(partial, zip_path)
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    result = LayerBuild(path=zip_path, sha256=digest, zipped_bytes=zip_path.stat().st_size, unzipped_bytes=unzipped,
                        packages=packages, shared=shared)
    meta_path.write_text(result.model_dump_json(indent=2))
    return result


class Published(BaseModel):
    arn: str
    action: str  # "published" or "unchanged"


def description(build_: LayerBuild) -> str:
    pkgs = " ".join(f"{k}=={v}" for k, v in sorted(build_.packages.items()))
    return f"sha256:{build_.sha256} {pkgs}"[:256]


def _versions(lam: Any, name: str) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"LayerName": name}
    while True:
        try:
            resp = lam.list_layer_versions(**kwargs)
        except Exception as exc:
            if "ResourceNotFound" in type(exc).__name__ or "ResourceNotFound" in str(exc):
                return versions
            raise
        versions.extend(resp.get("LayerVersions", []))
        if not resp.get("NextMarker"):
            return versions
        kwargs["Marker"] = resp["NextMarker"]


def publish(lam: Any, s3: Any, name: str, build_: LayerBuild, bucket: str, rt: str | None = None) -> Published:
    """Publish the build as a new version of layer `name`, unless a version with the same content exists."""
    marker = f"sha256:{build_.sha256}"
    for version in _versions(lam, name):
        if version.get("Description", "").split(" ", 1)[0] == marker:
            return Published(arn=version["LayerVersionArn"], action="unchanged")
    if build_.zipped_bytes <= DIRECT_UPLOAD_LIMIT:
        content: dict[str, Any] = {"ZipFile": build_.path.read_bytes()}
    else:
        key = f"deploy/layers/{name}/{build_.sha256}.zip"
        s3.upload_file(str(build_.path), bucket, key)
        content = {"S3Bucket": bucket, "S3Key": key}
    arn = lam.publish_layer_version(
        LayerName=name, Description=description(build_), Content=content,
        CompatibleRuntimes=[rt or runtime()], CompatibleArchitectures=[ARCHITECTURE],
    )["LayerVersionArn"]
    return Published(arn=arn, action="published")


def delete_all(lam: Any, name: str) -> int:
    """Delete every version of layer `name`. Returns how many there were."""
    versions = _versions(lam, name)
    for version in versions:
        lam.delete_layer_version(LayerName=name, VersionNumber=version["Version"])
    return len(versions)
