"""`launchplan list|activate|deactivate`: see and switch which launch plans fire on new artifact versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.table import Table
from rich.text import Text

from chalicelib.cli import main
from chalicelib.cli.output import out, print_json
from chalicelib.cli.options import stage_options
from chalicelib.ops.stage import Stage, resolve

if TYPE_CHECKING:
    from chalicelib.store.plans import LaunchPlanState


def _trigger_text(state: LaunchPlanState) -> str:
    if not state.triggers:
        return "-"
    parts = [a + ("(" + ", ".join(f"{k}={v}" for k, v in f.items()) + ")" if f else "") for a, f in state.triggers.items()]
    return f"all of {', '.join(parts)} aligned on {state.align_on}" if state.align_on else parts[0]


def list_plans(stage: Stage, name: str | None = None) -> dict[str, Any]:
    """Every launch plan's current version and state, or one plan's versions."""
    if name is None:
        return {"launch_plans": [_row(s) for s in sorted(stage.plans.all(), key=lambda s: s.name)]}
    state = stage.plans.require(name)
    return {"launch_plan": _row(state), "versions": stage.plans.versions(name)}


def _row(state: LaunchPlanState) -> dict[str, Any]:
    return {**state.model_dump(), "status": state.status}  # status: active, inactive or removed


def set_active(stage: Stage, name: str, active: bool) -> dict[str, Any]:
    return stage.plans.set_active(name, active).model_dump()


def _print_plans(rows: list[dict[str, Any]]) -> None:
    from chalicelib.store.plans import LaunchPlanState

    table = Table(title="Launch plans", title_justify="left")
    for col in ("name", "version", "active", "trigger", "workflow", "source"):
        table.add_column(col, overflow="fold")
    for row in rows:
        state = LaunchPlanState.model_validate(row)
        if state.removed:
            active = Text.assemble(("removed", "yellow"), f" at {state.removed_at} (no longer defined)")
        else:
            active = Text("active", style="green") if state.active else Text("inactive", style="red")
            if state.active_source == "operator":
                active.append(" (set by operator)")
        table.add_row(Text(state.name), Text(state.version), active, Text(_trigger_text(state)), Text(state.workflow),
                      Text(state.source or state.module or "-"))
    out.print(table)


@main.group()
def launchplan() -> None:
    """List, activate and deactivate launch plans of a stage (CASCADE_* environment)."""


@launchplan.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, and nothing else.")
@stage_options
def list_command(name: str | None, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """List launch plans (active, inactive, or removed from their file), or the versions of NAME."""
    data = list_plans(resolve(stage, endpoint_url), name)
    if as_json:
        print_json(data)
        return
    if name is None:
        _print_plans(data["launch_plans"])
        return
    _print_plans([data["launch_plan"]])
    table = Table(title=f"Versions of {name}", title_justify="left")
    for col in ("version", "registered at", "current"):
        table.add_column(col)
    for v in data["versions"]:
        table.add_row(v["version"], v["registered_at"], "yes" if v["version"] == data["launch_plan"]["version"] else "")
    out.print(table)


def _switch(name: str, active: bool, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    state = set_active(resolve(stage, endpoint_url), name, active)
    if as_json:
        print_json(state)
    else:
        word = "active" if active else "inactive"
        out.print(f"launch plan {name} (version {state['version']}) is now {word}; this applies from the next event")


@launchplan.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, and nothing else.")
@stage_options
def activate(name: str, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Make NAME fire on new versions of its trigger artifacts."""
    _switch(name, True, as_json, stage, endpoint_url)


@launchplan.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, and nothing else.")
@stage_options
def deactivate(name: str, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Stop NAME from firing, from the next event on."""
    _switch(name, False, as_json, stage, endpoint_url)
