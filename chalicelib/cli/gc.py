"""`gc [--dry-run]`: remove data objects of versions whose metadata item was never written."""

from __future__ import annotations

from datetime import timedelta

import click
from rich.table import Table
from rich.text import Text

from chalicelib.cli import main
from chalicelib.cli.options import stage_options
from chalicelib.cli.output import err, out, print_json


@main.command()
@click.option("--grace-hours", default=24.0, show_default=True,
              help="Leave objects younger than this alone (a producer may still be writing its metadata).")
@click.option("--dry-run", is_flag=True, help="List the orphans, delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, and nothing else.")
@stage_options
def gc(grace_hours: float, dry_run: bool, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Find data objects under artifacts/ that no metadata item points to, and delete them.

    Objects whose key is not in the artifact layout are reported as unknown and never deleted."""
    from chalicelib.errors import InputError
    from chalicelib.ops.stage import resolve
    from chalicelib.store import collect

    if grace_hours < 0:
        raise InputError(f"--grace-hours {grace_hours} is negative; give 0 or more hours")
    store = resolve(stage, endpoint_url).store
    with err.status("listing objects under artifacts/", spinner="dots") as status:
        def tick(scanned: int) -> None:
            if not as_json:
                status.update(f"listing objects under artifacts/: {scanned} so far")

        report = collect.find_orphans(store, grace=timedelta(hours=grace_hours), on_page=tick)
        if not dry_run:
            report = collect.remove(store, report)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    verb = "would delete" if dry_run else "deleted"
    view = Table(title=f"{len(report.orphans)} orphaned data objects in {report.bucket} ({verb})", title_justify="left")
    for col in ("key", "bytes", "last modified", "why"):
        view.add_column(col, overflow="fold")
    for o in report.orphans:
        view.add_row(Text(o.key), str(o.size), o.last_modified.isoformat(), Text(o.reason))
    out.print(view)
    out.print(f"scanned {report.scanned} objects: {report.live} live, {report.too_young} within the grace period, "
              f"{len(report.unknown)} with keys outside the artifact layout (left alone)")
    for key in report.unknown:
        out.print(Text(f"  unknown: {key}"), soft_wrap=True)
