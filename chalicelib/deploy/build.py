"""Build a stage's stack template and packages, under build/stages/<stage>/ (gitignored): nothing tracked is
written and no AWS call is made.

    project/        a clean copy of the project with the stage config written in (chalice reads only files)
    merge.json      infra/template.yaml plus the stage's generated parts (chalicelib/deploy/template.py)
    package/        `chalice package --merge-template merge.json`: sam.json and deployment.zip
    code.zip        deployment.zip re-zipped deterministically (sorted entries, fixed times)
    template.json   the stack template: SAM translated to plain CloudFormation, with the state machines,
                    schedules and notifications of chalicelib/workflows/

Why the merge is fed by our code rather than infra/template.yaml alone: the policies, environment variables and
function names are generated per stage, and chalice refuses to package `@app.on_s3_event` at all (CloudFormation
cannot add a notification to a bucket it does not own), so the package step skips chalice's notification
generator and the merge template declares the notification on the stack's own bucket.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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
    layer: Path | None
    layer_key: str | None
    path: Path  # template.json


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


def normalized_zip(source: Path, dest: Path) -> str:
    """Re-zip `source` into `dest` with sorted entries and fixed times; returns its sha256."""
    partial = dest.with_suffix(".partial")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            entry = zipfile.ZipInfo(info.filename, ZIP_TIME)
            entry.external_attr = info.external_attr
            entry.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(entry, src.read(info))
    os.replace(partial, dest)
    return hashlib.sha256(dest.read_bytes()).hexdigest()


def _fresh_copy(project: Path, dest: Path) -> Path:
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
    layer_zip, layer_key = None, None
    if with_layer:
        built_layer = layer.build(project)
        layer_zip, layer_key = built_layer.path, f"deploy/layers/{built_layer.sha256}.zip"
    copy = _fresh_copy(project, work / "project")
    write_stage_config(copy, symbolic_stage(stage, app.app_name), app.functions, None)
    merge = work / "merge.json"
    merge.write_text(json.dumps(merge_template(infra, stage, app, options, layer_key), indent=2) + "\n")
    package_dir = work / "package"
    shutil.rmtree(package_dir, ignore_errors=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}
    run_chalice(["package", "--stage", stage, "--merge-template", str(merge), str(package_dir)], copy,
                echo=echo, env=env, script=PACKAGE_SCRIPT)
    sam = json.loads((package_dir / "sam.json").read_text())
    check_merged(sam)
    code = work / "code.zip"
    code_key = f"deploy/functions/{normalized_zip(package_dir / 'deployment.zip', code)}.zip"
    parameters = {"Stage": stage, "AppName": app.app_name, **options.parameters()}
    from chalicelib.runtime import loader  # the workflows' state machines, schedules and notifications

    defs = loader.load_paths([project / WORKFLOWS])
    template = stage_template(translate(place_code(sam, stage, code_key, app.app_name), parameters, region), defs,
                              stage, app.app_name)
    path = work / "template.json"
    path.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    return Built(stage=stage, template=template, parameters=parameters, code=code, code_key=code_key,
                 layer=layer_zip, layer_key=layer_key, path=path)
