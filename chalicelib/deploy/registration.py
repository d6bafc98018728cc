"""Registration against a stage: store launch plans and subscriptions, and on a stage whose stack does not hold
them (the local server, a stack from before they moved into it) compile workflows against the stage's task
runner and create or update their state machines, schedules and notifications. Running it twice changes nothing
(see chalicelib/ops/register.py).

A deployed stage's stack holds its workflows' state machines, schedules and notifications (the deploy builds
them: chalicelib/deploy/workflow_stack.py). Registration there checks the files match the stack and refuses
otherwise, naming `make deploy`: it never creates or updates what the stack owns.

A deployed stage's task runner imports workflow modules from its own code, so only files under
chalicelib/workflows/ can be registered with it. The stage `local` (the server of `python -m chalicelib
local`) runs user code in its own process: any file can be registered there, from any folder; registration
records each module's file in the stage's registry and the server's task runner imports it from that file
(chalicelib/runtime/loader.py, import_module).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import structs

from chalicelib.aws import error_code
from chalicelib.deploy import workflow_stack
from chalicelib.deploy.stack import deployed_template
from chalicelib.deploy.errors import DeployError, StackOwnedError
from chalicelib.deploy.arns import StageArns
from chalicelib import naming
from chalicelib.naming import TASK_RUNNER
from chalicelib.ops.catalog import Catalog
from chalicelib.ops.register import Registered, Registrar, StackOwned, clients_like
from chalicelib.runtime import loader
from chalicelib.runtime.loader import Definitions
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


def stack_owned(stage: StageArns, defs: Definitions, template: dict[str, Any]) -> StackOwned | None:
    """The stack's state machines for `defs`, when its template holds the workflows (None for a stack from
    before they moved into it). Refuses, before anything changes, when the files would need the stack changed."""
    if not workflow_stack.owned(template).stack:
        return None
    stack_name = naming.stack_name(stage.stage, stage.app_name)
    complete = loader.PACKAGED_WORKFLOWS.resolve() in {Path(f).resolve() for f in defs.folders}
    problems = workflow_stack.differences(workflow_stack.resources(defs, stage.stage, stage.app_name), template,
                                          complete=complete)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise StackOwnedError(
            f"{shown}. The state machines, schedules and notifications of stage {stage.stage!r} belong to stack "
            f"{stack_name} and change only through a deploy: run `make deploy STAGE={stage.stage}`")
    return StackOwned(stack=stack_name,
                      state_machines=workflow_stack.state_machine_arns(defs, stage.arn, stage.stage, stage.app_name))


def register_paths(stage: StageArns, paths: list[Path], lam: Any, sfn: Any, ddb: Any) -> Registered:
    """Register `paths` with a deployed stage. When its stack holds the workflows (a deploy put them there),
    the files must match what the stack holds, and only launch plans, subscriptions and schedule specs are
    written; a stack from before that gets its state machines, schedules and notifications from here."""
    workflow_files(paths)  # every file is part of the deployment
    defs = loader.load_paths(list(paths))  # folders as folders: registering one reconciles every file in it
    clients = clients_like(sfn)
    template = deployed_template(clients("cloudformation"), naming.stack_name(stage.stage, stage.app_name))
    owned = stack_owned(stage, defs, template)
    runner = stage.task_runner_alias_arn if owned is not None else deployed_task_runner(lam, stage)
    settings = stage.settings(runner)
    registrar = Registrar(settings, sfn, Registry(settings, ddb), stage.outputs.states_role_arn, clients,
                          catalog=Catalog.of(settings, clients, ddb), owned=owned)
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
    settings = structs.replace(settings, task_runner_arn=task_runner)
    registrar = Registrar(settings, stage.sfn, Registry(settings, stage.dynamodb), outputs.states_role_arn)
    return registrar.register(defs)
