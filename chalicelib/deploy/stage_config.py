"""`.chalice/config.json` for one stage, written into the copy of the project that a deploy packages
(build/stages/<stage>/project, chalicelib/deploy/build.py), never into the working tree.

chalice reads a stage's environment variables and per-function settings only from `.chalice/config.json`,
and IAM policies only from files under `.chalice/`. This module writes exactly the keys it owns and keeps
everything else (other stages, top-level settings, your own keys and variables in the stage):

    stages.<stage>.environment_variables.CASCADE_*          names of the bucket, tables, stream, task runner
    stages.<stage>.autogen_policy                           false: every function gets its own policy file
    stages.<stage>.lambda_functions.<fn>.iam_policy_file    policies/<stage>/<fn>.json
    stages.<stage>.lambda_functions.<fn>.layers             the tasks layer, for functions that run task code

Files are rewritten only when their content changes, so a second run touches nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.config import ENV_PREFIX
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.guard import UNBUILT
from chalicelib.deploy.policies import policy_for
from chalicelib.deploy.arns import StageArns
from chalicelib.naming import UPLOAD, task_runner_functions

CONFIG = Path(".chalice") / "config.json"
POLICY_DIR = "policies"
# Functions whose code imports what tasks import (pandas...): they get the tasks layer.
TASK_CODE_FUNCTIONS = (*task_runner_functions(), UPLOAD)


def policy_file(stage: str, function: str) -> str:
    """Path of a function's policy file, relative to `.chalice/` (as chalice resolves `iam_policy_file`)."""
    return f"{POLICY_DIR}/{stage}/{function}.json"


def stage_section(current: dict[str, Any], stage: StageArns, functions: list[str],
                  tasks_layer_arn: str | None) -> dict[str, Any]:
    """The new `stages.<stage>` dict: `current` with the generated keys replaced. Pure."""
    section = json.loads(json.dumps(current))  # deep copy
    env = {k: v for k, v in section.get("environment_variables", {}).items() if not k.startswith(ENV_PREFIX)}
    env.update(stage.environment())
    section["environment_variables"] = dict(sorted(env.items()))
    section["autogen_policy"] = False
    per_function = section.setdefault("lambda_functions", {})
    for fn in functions:
        cfg = per_function.setdefault(fn, {})
        cfg["iam_policy_file"] = policy_file(stage.stage, fn)
        if fn in TASK_CODE_FUNCTIONS and tasks_layer_arn:
            cfg["layers"] = [tasks_layer_arn]
        else:
            cfg.pop("layers", None)
    return section


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"


def write_stage_config(project: Path, stage: StageArns, functions: list[str],
                       tasks_layer_arn: str | None) -> list[str]:
    """Write the stage's config section and policy files. Returns the files that changed."""
    config_path = project / CONFIG
    try:
        config = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise DeployError(f"{config_path} is missing; run from the project root (where app.py is)") from None
    except json.JSONDecodeError as exc:
        raise DeployError(f"{config_path} is not valid JSON: {exc}") from exc
    if config.get("app_name") != stage.app_name:
        raise DeployError(f"{config_path} has app_name {config.get('app_name')!r}; the stack and function names "
                          f"use {stage.app_name!r}. Set \"app_name\": \"{stage.app_name}\".")
    top_env = config.get("environment_variables") or {}
    if UNBUILT in top_env:  # the committed config stops plain chalice (deploy/guard.py); this one is built
        config["environment_variables"] = {k: v for k, v in top_env.items() if k != UNBUILT}
        if not config["environment_variables"]:
            del config["environment_variables"]
    stages = config.setdefault("stages", {})
    stages[stage.stage] = stage_section(stages.get(stage.stage, {}), stage, functions, tasks_layer_arn)
    changed = []
    if _write_if_changed(config_path, _dump(config)):
        changed.append(str(CONFIG))
    for fn in functions:
        rel = Path(".chalice") / policy_file(stage.stage, fn)
        if _write_if_changed(project / rel, _dump(policy_for(fn, stage))):
            changed.append(str(rel))
    return changed
