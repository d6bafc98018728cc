"""`dlq list|redrive`: the trigger's dead-letter queue on a deployed stage (or any endpoint boto3 is aimed at)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table

from chalicelib.cli import main
from chalicelib.cli.options import stage_options
from chalicelib.cli.output import out, print_json

queue_option = click.option("--queue", envvar="CASCADE_DLQ", default=None,
                            help="Dead-letter queue URL or name [env CASCADE_DLQ; default: the stage's, from its stack].")
limit_option = click.option("--limit", default=100, show_default=True, help="At most this many messages.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, and nothing else.")


def _queue(stage: Any, queue: str | None) -> str:
    from chalicelib import naming
    from chalicelib.errors import InputError

    found = queue or stage.settings.trigger_dlq_url
    if not found:
        raise InputError(f"stage {stage.settings.stage!r} names no dead-letter queue (its settings come from "
                         f"CASCADE_* variables without CASCADE_TRIGGER_DLQ_URL); pass --queue "
                         f"{naming.prefix(stage.settings.stage)}trigger-dlq")
    return found


@main.group()
def dlq() -> None:
    """Stream batches that failed every retry of the trigger: list them, or re-drive them."""


@dlq.command("list")
@stage_options
@queue_option
@limit_option
@click.option("--records", "show_records", is_flag=True,
              help="Read each batch back from the stream and show what the trigger makes of every record.")
@json_option
def list_cmd(stage: str | None, endpoint_url: str | None, queue: str | None, limit: int, show_records: bool,
             as_json: bool) -> None:
    """Show the dead-lettered batches (messages stay in the queue)."""
    from chalicelib.errors import DeadLetterError
    from chalicelib.ops import dlq as ops
    from chalicelib.ops.stage import resolve

    target = resolve(stage, endpoint_url)
    q = ops.DeadLetterQueue(target.client("sqs"), _queue(target, queue))
    letters = ops.list_letters(q, limit)
    rows = []
    for letter in letters:
        row = {"message_id": letter.message_id, "receive_count": letter.receive_count, "error": letter.error,
               "record": letter.record.model_dump(mode="json") if letter.record else None, "age_s": ops.age(letter)}
        if show_records and letter.record is not None:
            try:
                batch = ops.read_batch(target.client("dynamodbstreams"), letter.record.batch)
                row["records"] = [ops.view(r).model_dump() for r in batch]
            except DeadLetterError as exc:
                row["records_error"] = str(exc)
        rows.append(row)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Dead-lettered batches ({len(rows)})", title_justify="left")
    for col in ("message", "condition", "shard", "sequence numbers", "batch", "age", "function"):
        table.add_column(col, overflow="fold")
    for row, letter in zip(rows, letters):
        if letter.record is None:
            table.add_row(letter.message_id, "[red]unreadable[/]", "-", "-", "-", "-", letter.error or "")
            continue
        b = letter.record.batch
        table.add_row(letter.message_id, letter.record.request_context.condition, b.shard_id,
                      f"{b.start_sequence_number}..{b.end_sequence_number}", str(b.batch_size),
                      f"{row['age_s'] / 3600:.1f} h" if row["age_s"] is not None else "-",
                      letter.record.request_context.function_arn.rsplit(":", 1)[-1])
    out.print(table)
    for row in rows:
        for rec in row.get("records", []):
            what = rec["error"] or (f"{rec['artifact']}:{rec['version']}" if rec["artifact"] else rec["event_name"])
            out.print(f"  {row['message_id']} {rec['sequence_number']}: {what}", markup=False)
        if row.get("records_error"):
            out.print(f"  {row['message_id']}: {row['records_error']}", markup=False)


@dlq.command("redrive")
@stage_options
@queue_option
@limit_option
@click.option("--function", default=None,
              help="Trigger function name or ARN [default: the function named in each record].")
@click.option("--dry-run", is_flag=True, help="Read the batches back from the stream, invoke nothing.")
@json_option
def redrive_cmd(stage: str | None, endpoint_url: str | None, queue: str | None, limit: int, function: str | None,
                dry_run: bool, as_json: bool) -> None:
    """Feed dead-lettered batches through the trigger again; delete the messages that succeed.

    Exits 1 if any message was not re-driven (it stays in the queue)."""
    from chalicelib.ops import dlq as ops
    from chalicelib.ops.stage import resolve

    target = resolve(stage, endpoint_url)
    q = ops.DeadLetterQueue(target.client("sqs"), _queue(target, queue))
    results = ops.redrive(q, target.client("dynamodbstreams"), ops.lambda_invoker(target.client("lambda")),
                          function=function, limit=limit, dry_run=dry_run)
    if as_json:
        print_json([r.model_dump() for r in results])
    else:
        table = Table(title=f"Re-drive ({len(results)} messages)", title_justify="left")
        for col in ("message", "outcome", "records", "failed again", "detail"):
            table.add_column(col, overflow="fold")
        for r in results:
            style = "green" if r.outcome in ("redriven", "dry_run") else "red"
            table.add_row(r.message_id, f"[{style}]{r.outcome}[/]", str(r.records), ", ".join(r.failed) or "-",
                          r.detail or "")
        out.print(table)
    sys.exit(0 if all(r.outcome in ("redriven", "dry_run") for r in results) else 1)
