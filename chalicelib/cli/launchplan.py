"""`launchplan list|activate|deactivate`: see and switch which launch plans fire on new artifact versions and
on their schedules."""

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
    from chalicelib.ops.schedule import stage_schedules

    schedules = stage_schedules(stage)
    specs = {s.launch_plan: s for s in schedules.store.all()}
    if name is None:
        return {"launch_plans": [_row(s, specs, schedules) for s in sorted(stage.plans.all(), key=lambda s: s.name)]}
    state = stage.plans.require(name)
    return {"launch_plan": _row(state, specs, schedules), "versions": stage.plans.versions(name)}


def _row(state: LaunchPlanState, specs: dict[str, Any], schedules: Any) -> dict[str, Any]:
    spec = specs.get(state.name)
    schedule = {"expression": spec.expression, "kickoff_input": spec.kickoff_input,
                "next_fire": schedules.next_fire(state.name)} if spec is not None and not state.removed else None
    # status: active, inactive or removed; schedule: None, or its expression and next fire time (None: disabled)
    return {**state.model_dump(), "status": state.status, "schedule": schedule}


def set_active(stage: Stage, name: str, active: bool) -> dict[str, Any]:
    from chalicelib.ops.schedule import stage_schedules

    state = stage.plans.set_active(name, active).model_dump()
    spec = stage_schedules(stage).set_active(name, active)  # its schedule, if it has one, is enabled or disabled
    return {**state, "schedule": spec.expression if spec is not None else None}


def _print_plans(rows: list[dict[str, Any]]) -> None:
    from chalicelib.store.plans import LaunchPlanState

    table = Table(title="Launch plans", title_justify="left")
    for col in ("name", "version", "active", "trigger", "schedule", "next fire", "workflow", "source"):
        table.add_column(col, overflow="fold")
    for row in rows:
        state = LaunchPlanState.model_validate(row)
        schedule = row.get("schedule") or {}
        if state.removed:
            active = Text.assemble(("removed", "yellow"), f" at {state.removed_at} (no longer defined)")
        else:
            active = Text("active", style="green") if state.active else Text("inactive", style="red")
            if state.active_source == "operator":
                active.append(" (set by operator)")
        table.add_row(Text(state.name), Text(state.version), active, Text(_trigger_text(state)),
                      Text(schedule.get("expression") or "-"),
                      Text(schedule.get("next_fire") or ("-" if not schedule else "disabled")), Text(state.workflow),
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
        then = "the next event and the next scheduled tick" if state.get("schedule") else "the next event"
        out.print(f"launch plan {name} (version {state['version']}) is now {word}; this applies from {then}")


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
