"""Registration against a deployed stage: compile workflows against the deployed task runner, create or
update their state machines with the stack's Step Functions role, and store launch plans and subscriptions.
Running it twice changes nothing (see chalicelib/register.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib.aws import error_code
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.arns import StageArns
from chalicelib.naming import TASK_RUNNER
from chalicelib.ops.register import Registered, Registrar
from chalicelib.runtime import loader
from chalicelib.store.registry import Registry


def workflow_files(paths: list[Path]) -> list[Path]:
    """The files `loader.load_paths` would import, each checked to be part of the deployment."""
    files: list[Path] = []
    for path in paths:
        files += sorted(f for f in path.glob("*.py") if not f.name.startswith("_")) if path.is_dir() else [path]
    packaged = loader.PACKAGED_WORKFLOWS.resolve()
    for file in files:
        if file.resolve().parent != packaged:
            raise DeployError(
                f"{file} is not part of the deployment: deployed task runners import workflow modules from "
                f"chalicelib/workflows/. Move it there, deploy, then register it."
            )
    return files


def deployed_task_runner(lam: Any, stage: StageArns) -> str:
    name = stage.function_name(TASK_RUNNER)
    try:
        return str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise DeployError(f"the task runner {name} is not deployed in {stage.region}; run "
                              f"`make deploy STAGE={stage.stage}` first") from exc
        raise


def register_paths(stage: StageArns, paths: list[Path], lam: Any, sfn: Any, ddb: Any) -> Registered:
    files = workflow_files(paths)
    defs = loader.load_paths(list(files))
    settings = stage.settings(deployed_task_runner(lam, stage))
    registrar = Registrar(settings, sfn, Registry(settings, ddb), stage.outputs.states_role_arn)
    return registrar.register(defs)
