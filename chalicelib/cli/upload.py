"""`upload FILE --artifact NAME ...` and `uploads [--failed]`: against the local cloud or a deployed stage."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from chalicelib.cli import main
from chalicelib.cli.output import WHOLE, err, out, print_json
from chalicelib.cli.options import stage_options
from chalicelib.ops.stage import resolve
from chalicelib.errors import CascadeError
from chalicelib.store.models import iso_ms


def _partitions(values: tuple[str, ...]) -> dict[str, str]:
    partitions: dict[str, str] = {}
    for text in values:
        key, eq, value = text.partition("=")
        if not eq or not key:
            raise CascadeError(f"--partition {text!r} is not KEY=VALUE")
        if key in partitions:
            raise CascadeError(f"--partition {key} is given twice")
        partitions[key] = value
    return partitions


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--artifact", required=True, help="Artifact to add a version to; it must accept uploads.")
@click.option("--partition", "partitions", multiple=True, metavar="KEY=VALUE", help="One per partition key.")
@click.option("--time-partition", default=None, metavar="ISO", help="For time-partitioned artifacts, e.g. 2026-11-25.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, and nothing else.")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for what follows.")
@stage_options
def upload(file: str, artifact: str, partitions: tuple[str, ...], time_partition: str | None, as_json: bool,
           timeout: float, stage: str | None, endpoint_url: str | None) -> None:
    """Upload FILE (.csv, .parquet or .json) as a new version of ARTIFACT, then wait for and report the
    versions and executions that followed. Exits 1 if the upload was quarantined or anything failed."""
    from chalicelib.cli.run import print_report
    from chalicelib.ops import upload as client
    from chalicelib.ops.follow import execution_arns

    conn = resolve(stage, endpoint_url)
    before = execution_arns(conn)
    size = Path(file).stat().st_size if Path(file).is_file() else 0
    with Progress(TextColumn("uploading {task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task(Path(file).name, total=size)
        uploaded = client.put(conn, file, artifact, _partitions(partitions), time_partition,
                              on_bytes=lambda n: progress.advance(task, n))
    where = f"s3://{uploaded.bucket}/{uploaded.key}"
    settle = 0.5 if conn.endpoint_url else 5.0  # on AWS, stream records reach the trigger after a moment
    started = time.monotonic()
    with err.status("waiting for the upload handler", spinner="dots") as status:
        def tick(state: Any, execs: list[dict[str, Any]]) -> None:
            if as_json:
                return
            running = sum(1 for e in execs if e["status"] == "RUNNING")
            what = "waiting for the upload handler" if state is None else \
                f"{state.state}: {len(execs)} execution(s), {running} running"
            status.update(f"{what} ({time.monotonic() - started:.0f} s)")

        followed = client.follow(conn, uploaded, before, timeout=timeout, settle=settle, on_tick=tick)
    rep = {**followed.report(), "file": file, "uri": where, "repeated": uploaded.repeated}
    state = followed.upload
    quarantined = state is not None and state.state == "quarantined"
    if quarantined:
        from chalicelib.store.uploads import UploadLog

        record = next((r for r in UploadLog(conn.settings.registry_table, conn.client("dynamodb")).failed()
                       if r.id == uploaded.object_id), None)
        rep["quarantine"] = record.report() if record else None
    failed = quarantined or followed.timed_out or any(e["status"] != "SUCCEEDED" for e in followed.executions)
    if as_json:
        print_json(rep)
        sys.exit(1 if failed else 0)
    out.print(f"uploaded {file} to {where}", markup=False)
    if state is None:
        out.print(f"[red]no upload handler result after {timeout:.0f} s; is the bucket notification configured?[/]")
    elif quarantined:
        q = rep.get("quarantine") or {}
        out.print(f"[red]quarantined ({q.get('reason', state.reason)}): {escape(q.get('message', ''))}[/]")
        out.print(f"  copy at s3://{uploaded.bucket}/{q.get('quarantine_key')}", markup=False)
    else:
        again = " (this exact file was uploaded there before: nothing new follows)" if uploaded.repeated else ""
        out.print(f"[green]{state.artifact} version {state.version}[/]{again}")
        print_report(rep)
    if followed.timed_out and state is not None:
        out.print(f"[yellow]still running after {timeout:.0f} s; `python -m chalicelib executions` shows more later[/]")
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--failed", is_flag=True, help="Only failed uploads: quarantined ones (reason, original key, copy, "
                                            "time), malformed events, and what the upload dead-letter queue holds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, and nothing else.")
@stage_options
def uploads(failed: bool, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Uploaded objects and what became of them: registered as a version, or quarantined."""
    from chalicelib.store.uploads import UploadLog

    conn = resolve(stage, endpoint_url)
    log = UploadLog(conn.settings.registry_table, conn.client("dynamodb"))
    if failed:
        records = [r.report() for r in log.failed()] + _dead_letters(conn)
        records.sort(key=lambda r: (r["at"], r["id"]), reverse=True)  # newest first, like every view
        if as_json:
            print_json(records)
            return
        table = Table(title=f"Failed uploads ({len(records)}, newest first)", title_justify="left")
        for col in ("time", "reason", "original key", "quarantined copy", "message"):
            table.add_column(col, overflow="fold", no_wrap=col in WHOLE)
        for r in records:
            copy = r["quarantine_key"] or ("(no object)" if r["reason"] in ("malformed_event", "dead_letter")
                                           else "(object gone)")
            table.add_row(r["at"], r["reason"], Text(r["key"] or "-"), Text(copy), Text(r["message"]))
        out.print(table)
        return
    states = [{**s.model_dump(mode="json"), "at": iso_ms(s.at)} for s in reversed(log.all())]  # newest first
    if as_json:
        print_json(states)
        return
    table = Table(title=f"Uploads ({len(states)}, newest first)", title_justify="left")
    for col in ("time", "state", "artifact", "version", "key", "reason"):
        table.add_column(col, overflow="fold", no_wrap=col in WHOLE)
    for s in states:
        table.add_row(s["at"], s["state"], Text(s["artifact"] or "-"), s["version"] or "-", Text(s["key"]),
                      Text(s["reason"] or "-"))
    out.print(table)


def _dead_letters(conn: Any) -> list[dict[str, Any]]:
    """What the upload dead-letter queue holds (named by the stage's infra stack), or a warning on stderr."""
    from chalicelib.uploads import deadletters

    try:
        if not conn.settings.upload_dlq_url:
            raise CascadeError(f"stage {conn.settings.stage!r} names no upload dead-letter queue "
                               f"(CASCADE_UPLOAD_DLQ_URL, or the stack output UploadDlqUrl)")
        return deadletters.list_dead_letters(conn.client("sqs"), conn.settings.upload_dlq_url)
    except Exception as exc:  # the listing of quarantine records stands without it
        err.print(f"[yellow]cannot read the upload dead-letter queue: {escape(str(exc))}[/]")
        return []
