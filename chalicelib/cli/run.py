"""`run FILE WORKFLOW [--NAME VALUE ...]`: the whole cascade on the local cloud, then a report."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from chalicelib import aws
from chalicelib.cli import main
from chalicelib.cli.output import STATUS_STYLE, WHOLE, err, out, print_json
from chalicelib.errors import InputError


def run_in_cloud(cloud: Any, defs: Any, workflow: str, raw_inputs: dict[str, Any], from_text: bool = True,
                 timeout: float = 600, progress: bool = False) -> dict[str, Any]:
    """Register `defs` in a started local cloud, start WORKFLOW, wait for the cascade to settle, report."""
    from chalicelib.observe import Observer
    from chalicelib.ops import launch
    from chalicelib.ops.register import Registrar
    from chalicelib.store.registry import Registry

    wf, lp = launch.resolve(defs, workflow)  # a workflow, or a launch plan with its fixed and default inputs
    inputs = launch.inputs_for(wf, lp, raw_inputs, from_text=from_text)
    settings = cloud.settings
    ddb = aws.client("dynamodb", settings.region)
    sfn = aws.client("stepfunctions", settings.region)
    registered = Registrar(settings, sfn, Registry(settings, ddb), cloud.states_role_arn).register(defs)
    launch.start_workflow(sfn, settings, wf, inputs, launch_plan=lp.name if lp else None)
    if progress:
        from chalicelib.cli.progress import CascadeProgress

        line = CascadeProgress(sfn, ddb, settings)
        with err.status("running: waiting for every execution and event to finish") as status:
            def tick() -> None:
                status.update(line.text())
            cloud.wait_quiet(timeout, on_tick=tick)
    else:
        cloud.wait_quiet(timeout)
    return {
        **Observer(settings, ddb, sfn).report(),
        "errors": [{"function": e.function, "type": e.error_type, "message": e.message} for e in cloud.errors],
        "warnings": registered.warnings,
        "registration": {"changed": registered.changed, "launch_plans": registered.launch_plans,
                         "removed": registered.removed},
    }


def run_local(file: str, workflow: str, raw_inputs: dict[str, Any], timeout: float = 600,
              progress: bool = False) -> dict[str, Any]:
    """Load FILE (failing fast on bad definitions or inputs), then run it on a fresh local cloud."""
    from chalicelib.compile import portability
    from chalicelib.local.cloud import LocalCloud
    from chalicelib.ops import launch
    from chalicelib.runtime import loader

    defs = loader.load_paths([file])
    launch.inputs_for(*launch.resolve(defs, workflow), raw_inputs, from_text=True)  # before paying for the cloud
    portability.check(defs)
    with LocalCloud() as cloud:
        return run_in_cloud(cloud, defs, workflow, raw_inputs, timeout=timeout, progress=progress)


def _short(workflow: str | None) -> str:
    return (workflow or "?").rsplit(".", 1)[-1]


def print_report(rep: dict[str, Any]) -> None:
    """A summary for people: every user-supplied string is shown as text, never as markup."""
    for warning in rep.get("warnings", []):
        err.print(Text.assemble(("warning: ", "yellow"), warning))
    table = Table(title="Executions", title_justify="left")
    for col in ("workflow", "launch plan", "status", "triggered by", "seconds"):
        table.add_column(col, overflow="fold", no_wrap=col in WHOLE)
    for ex in rep["executions"]:
        trig = ex["triggered_by"]
        table.add_row(
            Text(_short(ex["workflow"])), Text(ex["launch_plan"] or "-"),
            Text(ex["status"], style=STATUS_STYLE.get(ex["status"], "")),
            Text(f"{trig['artifact']}:{trig['version']}" if trig else "-"),
            f"{ex['duration_s']:.2f}" if ex["duration_s"] is not None else "-",
        )
    out.print(table)
    arts = Table(title="Artifact versions", title_justify="left")
    for col in ("artifact", "version", "partitions", "time partition"):
        arts.add_column(col, overflow="fold", no_wrap=col in WHOLE)
    for a in rep["artifacts"]:
        arts.add_row(Text(a["name"]), Text(a["version"]),
                     Text(", ".join(f"{k}={v}" for k, v in a["partitions"].items()) or "-"),
                     Text(a["time_partition"] or "-"))
    out.print(arts)
    for a in rep["artifacts"]:
        out.print(Text(f"  {a['name']}:{a['version']} → {a['uri']}"), soft_wrap=True)
    for ex in rep["executions"]:
        if ex["logs"]:
            out.print(Text(f"logs of {_short(ex['workflow'])} ({ex['name']})", style="bold"))
            for line in ex["logs"]:
                out.print(Text(f"  {line}"))
        if ex["status"] == "FAILED":
            out.print(Text(f"{_short(ex['workflow'])} failed: {ex.get('error')}: {ex.get('cause')}", style="red"))
    for e in rep["errors"]:
        out.print(Text(f"handler {e['function']} failed: {e['type']}: {e['message']}", style="red"))


def failed(rep: dict[str, Any]) -> bool:
    return bool(rep["errors"]) or any(ex["status"] != "SUCCEEDED" for ex in rep["executions"])


def list_definitions(defs: Any) -> None:
    """`run FILE`: the workflows and launch plans FILE defines, with their inputs."""
    from chalicelib.ops import launch

    def line(kind: str, name: str, rows: list[dict[str, Any]]) -> None:
        args = " ".join(f"--{r['name']} {r['type']}" + ("" if r["required"] else f"={r['default']!r}")
                        for r in rows if not r["fixed"])
        out.print(Text(f"{kind} {name} {args}".rstrip()), soft_wrap=True)

    for wf in sorted(defs.workflows.values(), key=lambda w: w.short_name):
        line("workflow", wf.short_name, launch.describe_inputs(wf))
    for name, lp in sorted(defs.launch_plans.items()):
        line("launch plan", name, launch.describe_inputs(lp.workflow, lp))
    if not defs.workflows and not defs.launch_plans:
        out.print(Text("this file defines no workflows or launch plans"))


def print_inputs(ctx: click.Context, defs: Any, workflow: str) -> None:
    """`run FILE WF --help`: the command's own options, then each input of WF."""
    from chalicelib.ops import launch

    wf, lp = launch.resolve(defs, workflow)
    click.echo(ctx.get_help())
    click.echo("")
    what = f"launch plan {lp.name} (workflow {wf.short_name})" if lp else f"workflow {wf.short_name}"
    click.echo(f"Inputs of {what}:")
    rows = launch.describe_inputs(wf, lp)
    if not rows:
        click.echo("  (none)")
    for r in rows:
        state = ("fixed by the launch plan" if r["fixed"] else "required" if r["required"] else "optional")
        default = f", default: {r['default']!r}" if r["has_default"] else ""
        click.echo(f"  --{r['name']} {r['type']}  [{state}{default}]  e.g. --{r['name']} {r['example']}")


def run_on_stage(file: str, workflow: str, raw_inputs: dict[str, Any], stage: str, endpoint_url: str | None,
                 region: str | None, wait: bool, timeout: float, progress: bool) -> dict[str, Any]:
    """Register FILE on STAGE, start WORKFLOW there; with `wait`, follow its cascade and report it."""
    from pathlib import Path

    from chalicelib.ops import follow, launch, stage as stages
    from chalicelib.runtime import loader

    defs = loader.load_paths([file])
    wf, lp = launch.resolve(defs, workflow)
    inputs = launch.inputs_for(wf, lp, raw_inputs, from_text=True)  # before touching the stage
    conn = stages.resolve(stage, endpoint_url)  # StageNotFoundError: one line naming endpoint and fix
    if stage == stages.LOCAL_STAGE:
        from chalicelib.deploy.registration import register_local

        registered = register_local(conn, [Path(file)])
    else:
        from chalicelib.deploy.registration import register_paths
        from chalicelib.deploy.sequence import Deployment

        target = Deployment(Path.cwd(), stage, region, echo=lambda line: err.print(Text(line)))
        registered = register_paths(target.info(), [Path(file)], target.client("lambda"),
                                    target.client("stepfunctions"), target.client("dynamodb"))
    before = follow.execution_arns(conn) if wait else set()
    arn = launch.start_workflow(conn.sfn, conn.settings, wf, inputs, launch_plan=lp.name if lp else None)
    started = {"name": arn.rsplit(":", 1)[-1], "arn": arn, "stage": conn.settings.stage}
    if progress:  # with --json, it is in the report
        err.print(Text(f"started {started['name']} ({arn}) on stage {started['stage']}"), soft_wrap=True)
    rep: dict[str, Any] = {"started": started, "warnings": registered.warnings,
                           "registration": {"changed": registered.changed, "launch_plans": registered.launch_plans,
                                            "removed": registered.removed}}
    if not wait:
        return rep
    if progress:
        with err.status("running: waiting for every execution the run sets off to finish") as status:
            def tick(execs: list[dict[str, Any]]) -> None:
                done = sum(e["status"] in follow.TERMINAL for e in execs)
                status.update(f"running: {done}/{len(execs)} executions finished")
            cascade = follow.follow(conn, {arn}, before, timeout=timeout, on_tick=tick)
    else:
        cascade = follow.follow(conn, {arn}, before, timeout=timeout)
    errors = [] if not cascade.timed_out else [
        {"function": "run", "type": "Timeout", "message": f"the cascade did not settle within {timeout:g} s"}]
    return {"executions": cascade.executions, "artifacts": cascade.artifacts, "errors": errors, **rep,
            "timed_out": cascade.timed_out}


# run's own options, as they may also be spelled after WORKFLOW: name → takes a value
RUN_OPTIONS = {"stage": True, "endpoint-url": True, "wait": False, "json": False, "timeout": True}


def split_run_options(args: list[str], inputs: set[str]) -> tuple[list[str], list[str]]:
    """Pure: the arguments after WORKFLOW → (run's own options, the workflow's inputs).

    Everything after WORKFLOW is a workflow input, except one of run's own options (--stage, --endpoint-url,
    --wait, --json, --timeout) that names no input of the workflow: that is run's, as if given before FILE.
    So a workflow with an input `timeout` takes `--timeout 5` as its input, and run's own timeout goes
    before FILE: `run --timeout 60 wf.py my_wf --timeout 5`."""
    own: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, _ = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        if name in RUN_OPTIONS and name.replace("-", "_") not in inputs:
            takes_value = RUN_OPTIONS[name] and not eq
            own.extend(args[i:i + 1 + takes_value])
            i += 1 + takes_value
            continue
        rest.append(arg)
        i += 1
    return own, rest


def input_names(file: str, workflow: str) -> set[str]:
    from chalicelib.ops import launch
    from chalicelib.runtime import loader

    wf, lp = launch.resolve(loader.load_paths([file]), workflow)
    return {r["name"] for r in launch.describe_inputs(wf, lp)}


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "allow_interspersed_args": False, "help_option_names": []})
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.argument("workflow", required=False)
@click.option("--stage", default=None, metavar="NAME",
              help="Run on this stage ('local': the server of `python -m chalicelib local`) instead of a fresh "
                   "in-process local cloud: register FILE there, then start WORKFLOW.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="With --stage: the stage's endpoint (default: AWS_ENDPOINT_URL; for local http://127.0.0.1:4566).")
@click.option("--wait", is_flag=True, help="With --stage: follow the cascade until it settles, then report.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, and nothing else.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for the cascade to settle.")
@click.pass_context
def run(ctx: click.Context, file: str | None, workflow: str | None, stage: str | None, endpoint_url: str | None,
        wait: bool, as_json: bool, timeout: float) -> None:
    """Run WORKFLOW from FILE on the local cloud, with every trigger it sets off.

    run's options go before FILE; workflow inputs follow WORKFLOW as --NAME VALUE, e.g.
    `run --stage local wf.py my_wf --region emea`. After WORKFLOW, run's options are still understood when
    the workflow has no input of that name (an input named `stage` or `timeout` takes the value there).
    `run FILE` lists the workflows and launch plans of FILE; `run FILE WORKFLOW --help` lists WORKFLOW's
    inputs. With --stage, FILE is registered on that stage and WORKFLOW started there (--wait follows it).
    Exits 1 if any execution failed.
    """
    from chalicelib.ops.launch import parse_cli_inputs
    from chalicelib.runtime import loader

    wants_help = "--help" in ctx.args or "-h" in ctx.args
    if file in ("--help", "-h"):
        file = None
    elif file is not None and file.startswith("--"):
        raise InputError(f"run has no option {file!r}; its options are "
                         f"{', '.join('--' + o for o in RUN_OPTIONS)} (before FILE), workflow inputs follow WORKFLOW")
    if file is None or (workflow is None and wants_help):
        click.echo(ctx.get_help())
        return
    if workflow is None:
        list_definitions(loader.load_paths([file]))
        return
    if wants_help:
        print_inputs(ctx, loader.load_paths([file]), workflow)
        return
    args = list(ctx.args)
    if any(a.startswith("--") and a[2:].partition("=")[0] in RUN_OPTIONS for a in args):
        own, args = split_run_options(args, input_names(file, workflow))
        if own:  # run's options spelled after WORKFLOW: parse them as if they came before FILE
            parsed = run.make_context("run", [*own, file, workflow], parent=ctx.parent)
            stage = stage if stage is not None else parsed.params["stage"]
            endpoint_url = endpoint_url or parsed.params["endpoint_url"]
            wait, as_json = wait or parsed.params["wait"], as_json or parsed.params["as_json"]
            if "timeout" in {a[2:].partition("=")[0] for a in own}:
                timeout = parsed.params["timeout"]
    raw = parse_cli_inputs(args)
    if stage is None:
        if wait or endpoint_url:
            err.print("note: --wait and --endpoint-url apply with --stage; running on a fresh local cloud")
        rep = run_local(file, workflow, raw, timeout=timeout, progress=not as_json)
    else:
        rep = run_on_stage(file, workflow, raw, stage, endpoint_url, None, wait, timeout, progress=not as_json)
        if not wait:
            if as_json:
                print_json(rep)
            else:
                out.print(Text(f"{rep['started']['name']} {rep['started']['arn']}"), soft_wrap=True)
            return
    if as_json:
        print_json(rep)
    else:
        print_report(rep)
    sys.exit(1 if failed(rep) else 0)
