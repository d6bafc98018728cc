"""`schedule tick LAUNCH_PLAN [--at ISO]`: fire one tick of a scheduled launch plan by hand, on any stage."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from chalicelib.cli import main
from chalicelib.cli.output import out, print_json
from chalicelib.cli.options import stage_options
from chalicelib.errors import InputError
from chalicelib.ops.stage import resolve


def parse_at(text: str | None) -> datetime:
    """`--at` as a UTC time (a time without a zone is UTC); by default, now, to the minute."""
    if text is None:
        return datetime.now(timezone.utc).replace(second=0, microsecond=0)
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--at {text!r} is not an ISO time; e.g. --at 2026-12-01T23:00:00Z") from None
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@main.group()
def schedule() -> None:
    """Scheduled launch plans (CronSchedule, FixedRate): fire a tick by hand."""


@schedule.command()
@click.argument("launch_plan")
@click.option("--at", "at_text", default=None, metavar="ISO",
              help="The tick's scheduled time, e.g. 2026-12-01T23:00:00Z (default: now, to the minute). It is the "
                   "kickoff input, and names the execution: the same tick fired twice starts one execution.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, and nothing else.")
@stage_options
def tick(launch_plan: str, at_text: str | None, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Fire one tick of LAUNCH_PLAN's schedule, as EventBridge Scheduler delivers it."""
    from chalicelib.ops.schedule import tick as fire

    result = fire(resolve(stage, endpoint_url), launch_plan, parse_at(at_text))
    if as_json:
        print_json(result.model_dump())
        return
    words = {"started": "started", "already_started": "was already started:",
             "inactive": "is inactive: nothing started (activate it with `launchplan activate`)"}
    line = f"tick {result.scheduled_time} of {launch_plan} {words.get(result.outcome, result.outcome)}"
    if result.execution and result.outcome != "inactive":
        line += f" {result.execution}"
    out.print(line, markup=False, highlight=False, soft_wrap=True)
