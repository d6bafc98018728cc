"""Build a stage's stack template and packages, under build/stages/<stage>/ (gitignored): nothing tracked is
written and no AWS call is made.

    project/        a clean copy of the project with the stage config written in (chalice reads only files)
    merge.json      infra/template.yaml plus the stage's generated parts (chalicelib/deploy/template.py)
    package/        `chalice package --merge-template merge.json`: sam.json and deployment.zip
    code.zip        deployment.zip with bytecode, re-zipped deterministically (sorted entries, fixed times)
    template.json   the stack template: SAM translated to plain CloudFormation, with the state machines,
                    schedules and notifications of chalicelib/workflows/

Why the merge is fed by our code rather than infra/template.yaml alone: the policies, environment variables and
function names are generated per stage, and chalice refuses to package `@app.on_s3_event` at all (CloudFormation
cannot add a notification to a bucket it does not own), so the package step skips chalice's notification
generator and the merge template declares the notification on the stack's own bucket.

What each function runs: code.zip holds only the project's own code (app.py, chalicelib/, and the `chalice`
runtime module chalice adds), with checked-hash bytecode; the copy chalice packages has an empty
requirements.txt, because /var/task comes before the layers on sys.path and a dependency left in the zip
would shadow the layer's compiled copy. Every dependency comes from the functions layer (requirements.txt,
compiled for the runtime: chalicelib/deploy/layer.py), first in every function's Layers; the functions that
run task code also get the tasks layer.
"""

from __future__ import annotations

import compileall
import hashlib
import json
import os
import py_compile
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from chalicelib.deploy import layer
from chalicelib.deploy.appinfo import AppInfo, app_info
from chalicelib.deploy.chalice_cli import run_chalice
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.stage_config import CONFIG, write_stage_config
from chalicelib.deploy.template import (
    StageOptions, check_merged, merge_template, place_code, stage_template, symbolic_stage, translate,
)
from chalicelib.deploy.workspace import copy_project

BUILD = Path("build") / "stages"
INFRA = Path("infra") / "template.yaml"
WORKFLOWS = Path("chalicelib") / "workflows"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
TASK_ROOT = "/var/task"  # where Lambda unpacks a function zip
# chalice refuses apps with @app.on_s3_event; the merge template declares the notification instead.
PACKAGE_SCRIPT = ("import sys\nimport chalice.package as p\n"
                  "p.SAMTemplateGenerator._generate_s3bucketnotification = lambda self, resource, template: None\n"
                  "from chalice.cli import main\nsys.exit(main())")


class Built(BaseModel):
    stage: str
    template: dict[str, Any]
    parameters: dict[str, str]
    code: Path
    code_key: str
    layer: Path | None  # the tasks layer
    layer_key: str | None
    functions_layer: Path | None = None
    functions_layer_key: str | None = None
    path: Path  # template.json

    def uploads(self) -> list[tuple[Path, str]]:
        """(file, key in the stage bucket) of every package the template refers to."""
        pairs = [(self.code, self.code_key), (self.functions_layer, self.functions_layer_key),
                 (self.layer, self.layer_key)]
        return [(path, key) for path, key in pairs if path is not None and key is not None]


def load_infra(project: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    path = project / INFRA
    try:
        parsed = yaml_parse(path.read_text())
    except FileNotFoundError:
        raise DeployError(f"{path} is missing; run from the project root (where app.py is)") from None
    except Exception as exc:
        raise DeployError(f"{path} is not a valid template: {exc}") from exc
    if not isinstance(parsed, dict) or "Resources" not in parsed:
        raise DeployError(f"{path} has no Resources section")
    return dict(parsed)


def stage_options(project: Path, stage: str) -> StageOptions:
    config = json.loads((project / CONFIG).read_text())
    raw = config.get("stages", {}).get(stage, {}).get("cascade", {})
    try:
        return StageOptions.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise DeployError(f"{project / CONFIG} stages.{stage}.cascade: {problems}") from None


def _bytecode(src: zipfile.ZipFile) -> dict[str, bytes]:
    """Checked-hash bytecode of every module in the zip, by its path in the zip. Checked: the interpreter uses
    a `.pyc` only while it matches its source, so a zip whose sources are edited later (the Lambda console)
    never runs stale code. Compiled with the runtime's Python (layer.runtime() is this one)."""
    with tempfile.TemporaryDirectory(prefix="cascade-code-") as tmp:
        root = Path(tmp)
        for name in src.namelist():
            if name.endswith(".py"):
                src.extract(name, root)
        compileall.compile_dir(root, quiet=2, workers=0, ddir=TASK_ROOT,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*.pyc"))}


def normalized_zip(source: Path, dest: Path, compile_code: bool = False) -> str:
    """Re-zip `source` into `dest` with sorted entries and fixed times (with `compile_code`, plus bytecode of
    its modules); returns its sha256."""
    partial = dest.with_suffix(".partial")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        entries: dict[str, tuple[int, bytes]] = {i.filename: (i.external_attr, src.read(i)) for i in src.infolist()
                                                 if not (compile_code and i.filename.endswith(".pyc"))}
        if compile_code:  # bytecode of its own (a .pyc already in the zip may be timestamp-based: not reproducible)
            entries.update({name: (0o644 << 16, data) for name, data in _bytecode(src).items()})
        for name in sorted(entries):
            attr, data = entries[name]
            entry = zipfile.ZipInfo(name, ZIP_TIME)
            entry.external_attr = attr
            entry.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(entry, data)
    os.replace(partial, dest)
    return hashlib.sha256(dest.read_bytes()).hexdigest()


def own_code_only(project: Path) -> Path:
    """The copy of the project that chalice packages: its requirements.txt emptied (every dependency comes
    from the functions layer, and /var/task precedes /opt/python on sys.path, so a copy left in the zip would
    shadow the layer's compiled one)."""
    (project / layer.REQUIREMENTS).write_text("# every function's dependencies come from the functions layer\n")
    return project


def fresh_copy(project: Path, dest: Path) -> Path:
    """A clean copy of the project in `dest`, keeping chalice's dependency cache from the last build."""
    cache = dest / ".chalice" / "deployments"
    kept = dest.parent / "deployments-cache"
    if cache.is_dir():
        shutil.rmtree(kept, ignore_errors=True)
        os.replace(cache, kept)
    shutil.rmtree(dest, ignore_errors=True)
    copy_project(project, dest)
    if kept.is_dir():
        os.replace(kept, cache)
    return dest


def build_stage(project: Path, stage: str, region: str, echo: Callable[[str], None] | None = print,
                with_layer: bool = True) -> Built:
    project = project.resolve()
    app: AppInfo = app_info(project)
    options = stage_options(project, stage)
    infra = load_infra(project)
    work = project / BUILD / stage
    work.mkdir(parents=True, exist_ok=True)
    layer_zip, layer_key, functions_zip, functions_key = None, None, None, None
    if with_layer:
        functions_layer = layer.build_functions(project)
        functions_zip, functions_key = functions_layer.path, layer_key_of(functions_layer)
        built_layer = layer.build(project)
        layer_zip, layer_key = built_layer.path, layer_key_of(built_layer)
    copy = fresh_copy(project, work / "project")
    if with_layer:
        own_code_only(copy)
    write_stage_config(copy, symbolic_stage(stage, app.app_name), app.functions, None)
    merge = work / "merge.json"
    merged = merge_template(infra, stage, app, options, layer_key, functions_layer_key=functions_key)
    merge.write_text(json.dumps(merged, indent=2) + "\n")
    package_dir = work / "package"
    shutil.rmtree(package_dir, ignore_errors=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}
    run_chalice(["package", "--stage", stage, "--merge-template", str(merge), str(package_dir)], copy,
                echo=echo, env=env, script=PACKAGE_SCRIPT)
    sam = json.loads((package_dir / "sam.json").read_text())
    check_merged(sam)
    code = work / "code.zip"
    code_key = f"deploy/functions/{normalized_zip(package_dir / 'deployment.zip', code, compile_code=True)}.zip"
    parameters = {"Stage": stage, "AppName": app.app_name, **options.parameters()}
    from chalicelib.runtime import loader  # the workflows' state machines, schedules and notifications

    defs = loader.load_paths([project / WORKFLOWS])
    template = stage_template(translate(place_code(sam, stage, code_key, app.app_name), parameters, region), defs,
                              stage, app.app_name)
    path = work / "template.json"
    path.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    return Built(stage=stage, template=template, parameters=parameters, code=code, code_key=code_key,
                 layer=layer_zip, layer_key=layer_key, functions_layer=functions_zip,
                 functions_layer_key=functions_key, path=path)


def layer_key_of(build_: layer.LayerBuild) -> str:
    """A layer zip's key in the stage bucket: content-addressed, so an unchanged layer is not uploaded again."""
    return f"deploy/layers/{build_.sha256}.zip"
