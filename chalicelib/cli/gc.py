"""`gc [--dry-run]`: remove data objects of versions whose metadata item was never written."""

from __future__ import annotations

from datetime import timedelta

import click
from rich.table import Table

from chalicelib import aws
from chalicelib.cli import main
from chalicelib.cli.output import out, print_json


@main.command()
@click.option("--stage", default="dev", show_default=True, help="Stage to clean: resources are named cascade-STAGE-*.")
@click.option("--bucket", envvar="CASCADE_BUCKET", default=None,
              help="Artifact bucket [env CASCADE_BUCKET; default: the stage's, cascade-STAGE-ACCOUNT-REGION].")
@click.option("--table", envvar="CASCADE_ARTIFACTS_TABLE", default=None,
              help="Artifacts table [env CASCADE_ARTIFACTS_TABLE; default: cascade-STAGE-artifacts].")
@click.option("--region", default=None, help="AWS region [default: AWS_REGION, or your profile's].")
@click.option("--grace-hours", default=24.0, show_default=True,
              help="Leave objects younger than this alone (a task may still be writing its metadata).")
@click.option("--dry-run", is_flag=True, help="List the orphans, delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, and nothing else.")
def gc(stage: str, bucket: str | None, table: str | None, region: str | None, grace_hours: float, dry_run: bool,
       as_json: bool) -> None:
    """Find data objects under artifacts/ that no metadata item points to, and delete them."""
    from chalicelib.cli.dlq import resolve_region
    from chalicelib.ops import gc as ops

    region = resolve_region(region)
    s3, ddb = aws.client("s3", region), aws.client("dynamodb", region)
    table = table or f"cascade-{stage}-artifacts"
    if bucket is None:
        account = aws.client("sts", region).get_caller_identity()["Account"]
        bucket = f"cascade-{stage}-{account}-{region}"
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
