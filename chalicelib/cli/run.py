"""`run FILE WORKFLOW [--NAME VALUE ...]`: the whole cascade on the local cloud, then a report."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from chalicelib import aws
from chalicelib.cli import main
from chalicelib.cli.output import STATUS_STYLE, err, out, print_json


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
        table.add_column(col, overflow="fold")
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
        arts.add_column(col, overflow="fold")
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


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("workflow")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, and nothing else.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for the cascade to settle.")
@click.pass_context
def run(ctx: click.Context, file: str, workflow: str, as_json: bool, timeout: float) -> None:
    """Run WORKFLOW from FILE on the local cloud, with every trigger it sets off.

    Workflow inputs follow as --NAME VALUE, e.g. `run wf.py my_wf --region emea`.
    Exits 1 if any execution failed.
    """
    from chalicelib.ops.launch import parse_cli_inputs

    rep = run_local(file, workflow, parse_cli_inputs(ctx.args), timeout=timeout, progress=not as_json)
    if as_json:
        print_json(rep)
    else:
        print_report(rep)
    sys.exit(1 if failed(rep) else 0)
