"""`replay ARTIFACT`: fire the triggers of existing versions again (backfill), idempotently."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from chalicelib.cli import main
from chalicelib.cli.output import err, out, print_json
from chalicelib.cli.options import stage_options


@main.command("replay")
@click.argument("artifact")
@click.option("--since", default=None, metavar="ISO", help="Only versions made at or after this time (UTC unless an offset is given).")
@click.option("--until", default=None, metavar="ISO", help="Only versions made before this time.")
@click.option("--launch-plan", "launch_plan", default=None, metavar="NAME", help="Only this launch plan.")
@click.option("--dry-run", is_flag=True, help="Show what would start; start nothing.")
@click.option("--force", is_flag=True, help="Start new runs even for versions that already started (a fresh run key, recorded apart).")
@click.option("--salt", default=None, metavar="TEXT", help="With --force: reuse the run key of an earlier forced replay, to resume it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, and nothing else.")
@stage_options
def replay_command(artifact: str, since: str | None, until: str | None, launch_plan: str | None, dry_run: bool,
                   force: bool, salt: str | None, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Re-fire the triggers of ARTIFACT's existing versions, through the trigger's own path and start claim.

    A version that already started a launch plan starts nothing more for it, even after the launch plan was
    registered again, unless --force; launch plans a version never started (added later) start once.
    """
    from chalicelib.errors import InputError
    from chalicelib.ops.replay import new_salt, parse_time, replay

    if salt and not force:
        raise InputError("--salt only applies with --force")
    from chalicelib.ops.stage import resolve

    target = resolve(stage, endpoint_url)
    key = (salt or new_salt()) if force else ""
    with Progress(TextColumn("replaying {task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task(artifact, total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = replay(target.trigger(), target.store, artifact,
                        since=parse_time(since, "--since") if since else None,
                        until=parse_time(until, "--until") if until else None,
                        launch_plan=launch_plan, dry_run=dry_run, salt=key, on_version=tick)
    if as_json:
        print_json({**report.model_dump(), "counts": report.counts()})
        return
    verb = "would replay" if dry_run else "replayed"
    out.print(f"{verb} {report.versions} version(s) of {artifact}" + (f" with run key salt {key}" if key else ""))
    table = Table(title="Runs", title_justify="left")
    for col in ("launch plan", "started", "already started", "would start"):
        table.add_column(col)
    for lp, counts in sorted(report.counts().items()):
        table.add_row(lp, *(str(counts.get(k, 0)) for k in ("started", "already_started", "would_start")))
    out.print(table)
    if not report.launch_plans:
        out.print(f"no active launch plan listens to {artifact}")
