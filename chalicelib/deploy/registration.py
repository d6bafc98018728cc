"""Registration against a stage: compile workflows against the stage's task runner, create or update their
state machines with the stack's Step Functions role, and store launch plans and subscriptions. Running it
twice changes nothing (see chalicelib/ops/register.py).

A deployed stage's task runner imports workflow modules from its own code, so only files under
chalicelib/workflows/ can be registered with it. The stage `local` (the server of `python -m chalicelib
local`) runs user code in its own process: any file can be registered there, from any folder; registration
records each module's file in the stage's registry and the server's task runner imports it from that file
(chalicelib/runtime/loader.py, import_module).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.aws import error_code
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.arns import StageArns
from chalicelib import naming
from chalicelib.naming import TASK_RUNNER
from chalicelib.ops.catalog import Catalog
from chalicelib.ops.register import Registered, Registrar, clients_like
from chalicelib.runtime import loader
from chalicelib.store.registry import Registry

if TYPE_CHECKING:
    from chalicelib.ops.stage import Stage


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
    """The ARN Task states call: the task runner's alias (naming.TASK_RUNNER_ALIAS, which the stack moves to each
    published version), or the function itself where the alias does not exist (a stack from before it)."""
    name = stage.function_name(TASK_RUNNER)
    try:
        arn = str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise DeployError(f"the task runner {name} is not deployed in {stage.region}; run "
                              f"`make deploy STAGE={stage.stage}` first") from exc
        raise
    try:
        return str(lam.get_alias(FunctionName=name, Name=naming.TASK_RUNNER_ALIAS)["AliasArn"])
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return arn
        raise


def register_paths(stage: StageArns, paths: list[Path], lam: Any, sfn: Any, ddb: Any) -> Registered:
    workflow_files(paths)  # every file is part of the deployment
    defs = loader.load_paths(list(paths))  # folders as folders: registering one reconciles every file in it
    settings = stage.settings(deployed_task_runner(lam, stage))
    clients = clients_like(sfn)
    registrar = Registrar(settings, sfn, Registry(settings, ddb), stage.outputs.states_role_arn, clients,
                          catalog=Catalog.of(settings, clients, ddb))
    return registrar.register(defs)


def register_local(stage: Stage, paths: list[Path]) -> Registered:
    """Register files from anywhere with a running local server (`python -m chalicelib local`), found as
    every command finds a stage (chalicelib/ops/stage.py), against its task runner `cascade-local-task_runner`."""
    from chalicelib.deploy import stack

    settings = stage.settings
    outputs = stack.read_outputs(stage.client("cloudformation"), naming.stack_name(settings.stage, settings.app_name))
    arns = StageArns.from_outputs(settings.app_name, settings.stage, settings.region, outputs)
    defs = loader.load_paths(list(paths))  # bad definitions fail before anything changes
    task_runner = deployed_task_runner(stage.client("lambda"), arns)
    settings = settings.model_copy(update={"task_runner_arn": task_runner})
    registrar = Registrar(settings, stage.sfn, Registry(settings, stage.dynamodb), outputs.states_role_arn)
    return registrar.register(defs)
