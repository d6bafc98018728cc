"""`deploy`, `destroy` and `register`: a stage on AWS (or any endpoint in AWS_ENDPOINT_URL)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from rich.text import Text

from chalicelib.cli import main
from chalicelib.cli.output import err
from chalicelib.deploy.errors import DeployError

DEFAULT_WORKFLOWS = Path("chalicelib") / "workflows"


def _echo(line: str) -> None:
    click.echo(line)


@contextmanager
def _aws_errors(stage: str) -> Iterator[None]:
    """AWS refusals (credentials, permissions, limits) as one line naming the stage, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DeployError(f"stage {stage}: {text}. Check your AWS credentials (aws sts get-caller-identity) and "
                          f"region (--region or AWS_DEFAULT_REGION), then run the same command again.") from exc


@main.command()
@click.option("--stage", default="dev", show_default=True, help="Stage name: resources are named cascade-STAGE-*.")
@click.option("--region", default=None, help="AWS region (default: from AWS_DEFAULT_REGION or your profile).")
@click.option("--workflows", "workflows", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Workflow files or folders to register (default: chalicelib/workflows).")
@click.option("--template-only", is_flag=True,
              help="Only build the stack template and packages under build/stages/STAGE/ (no AWS call).")
def deploy(stage: str, region: str | None, workflows: tuple[Path, ...], template_only: bool) -> None:
    """Deploy STAGE as one CloudFormation stack (cascade-STAGE-infra) through a change set, then register.

    Run from the project root of any copy of the project: the stage's state is the stack. A deploy prints
    each resource it adds, modifies or removes; deploying the same code again changes nothing. After a
    failure, run it again.
    """
    from chalicelib.deploy.sequence import Deployment

    with _aws_errors(stage):
        target = Deployment(Path.cwd(), stage, region, echo=_echo)
        if template_only:
            built = target.build()
            _echo(f"{built.path.relative_to(target.project)} (code {built.code_key}, layer {built.layer_key})")
            return
        target.deploy(list(workflows) or [DEFAULT_WORKFLOWS])
    err.print(f"[green]stage {stage} deployed[/]")


@main.command()
@click.option("--stage", default="dev", show_default=True)
@click.option("--region", default=None, help="AWS region (default: from AWS_DEFAULT_REGION or your profile).")
@click.option("--keep-data", is_flag=True, help="Keep the artifact bucket and the tables (with their data).")
def destroy(stage: str, region: str | None, keep_data: bool) -> None:
    """Tear STAGE down from any copy of the project: state machines, data (bucket emptied first), the stack."""
    from chalicelib.deploy.sequence import Deployment

    with _aws_errors(stage):
        Deployment(Path.cwd(), stage, region, echo=_echo).destroy(keep_data=keep_data)
    err.print(f"[green]stage {stage} destroyed[/]")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--stage", default="dev", show_default=True,
              help="Stage; 'local' is the server of `python -m chalicelib local` (any file, from any folder).")
@click.option("--region", default=None, help="AWS region (default: from AWS_DEFAULT_REGION or your profile).")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="For --stage local: the server's endpoint (default: AWS_ENDPOINT_URL, else http://127.0.0.1:4566).")
def register(paths: tuple[Path, ...], stage: str, region: str | None, endpoint_url: str | None) -> None:
    """Register the workflows and launch plans in PATHS with STAGE (idempotent).

    Launch plans registered before from these files (from any file of a folder given) that they no longer
    define are removed: they stop firing from the next event.
    """
    from chalicelib.deploy.registration import register_local, register_paths
    from chalicelib.ops.stage import LOCAL_STAGE, resolve

    with _aws_errors(stage):
        if stage == LOCAL_STAGE:  # user code runs in the local server's process: no packaging rule
            registered = register_local(resolve(stage, endpoint_url), list(paths))
        else:
            from chalicelib.deploy.sequence import Deployment

            target = Deployment(Path.cwd(), stage, region, echo=_echo)
            registered = register_paths(target.info(), list(paths), target.client("lambda"),
                                        target.client("stepfunctions"), target.client("dynamodb"))
    for line in registered.changed or ["state machines already current"]:
        _echo(line)
    if registered.owner:
        _echo(f"state machines, schedules and notifications are stack {registered.owner}'s: they change through "
              f"`make deploy STAGE={stage}`")
    for name, arn in sorted(registered.state_machines.items()):
        _echo(f"{name}: {arn}")
    for lp in registered.launch_plans:
        _echo(f"launch plan {lp}")
    for lp in registered.removed:
        _echo(f"launch plan {lp} removed (no longer defined; it fires no more)")
    for warning in registered.warnings:
        err.print(Text.assemble(("warning: ", "yellow"), warning))
