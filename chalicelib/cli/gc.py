"""`gc [--dry-run]`: remove data objects of versions whose metadata item was never written."""

from __future__ import annotations

from datetime import timedelta

import click
from rich.table import Table

from chalicelib import aws
from chalicelib.cli import main
from chalicelib.cli.output import out, print_json


@main.command()
@click.option("--bucket", envvar="CASCADE_BUCKET", required=True, help="Artifact bucket [env CASCADE_BUCKET].")
@click.option("--table", envvar="CASCADE_ARTIFACTS_TABLE", required=True,
              help="Artifacts table [env CASCADE_ARTIFACTS_TABLE].")
@click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], default="us-east-1", show_default=True,
              help="AWS region [env AWS_REGION].")
@click.option("--grace-hours", default=24.0, show_default=True,
              help="Leave objects younger than this alone (a task may still be writing its metadata).")
@click.option("--dry-run", is_flag=True, help="List the orphans, delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, and nothing else.")
def gc(bucket: str, table: str, region: str, grace_hours: float, dry_run: bool, as_json: bool) -> None:
    """Find data objects under artifacts/ that no metadata item points to, and delete them."""
    from chalicelib.ops import gc as ops

    s3, ddb = aws.client("s3", region), aws.client("dynamodb", region)
    report = ops.find_orphans(s3, ddb, bucket, table, grace=timedelta(hours=grace_hours))
    if not dry_run:
        report = ops.remove(s3, ddb, table, report)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    verb = "would delete" if dry_run else "deleted"
    view = Table(title=f"{len(report.orphans)} orphaned data objects in {bucket} ({verb})", title_justify="left")
    for col in ("key", "bytes", "last modified", "why"):
        view.add_column(col, overflow="fold")
    for o in report.orphans:
        view.add_row(o.key, str(o.size), o.last_modified.isoformat(), o.reason)
    out.print(view)
    out.print(f"scanned {report.scanned} objects; {report.too_young} within the grace period; "
              f"{len(report.foreign)} outside the artifact layout (left alone)")
