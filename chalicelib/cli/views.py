"""Read-only views: `artifacts`, `artifacts show`, `executions`, `logs`, `lineage`.

Each prints a table (or a tree) for people and, with `--json`, JSON for machines. They read the stage named
by the CASCADE_* environment (or `--stage`), through `--endpoint-url` / AWS_ENDPOINT_URL when the stage is a
local cloud server. Every user-controlled string reaches rich as `Text`, never as markup.
"""

from __future__ import annotations

from typing import Any, Callable

import click
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from chalicelib.cli import main
from chalicelib.cli.options import stage_options
from chalicelib.cli.output import STATUS_STYLE, WHOLE, err, out, print_json
from chalicelib.errors import InputError
from chalicelib.observe import (
    ExecutionRow,
    GraphNode,
    LineageGraph,
    Observer,
    STATUSES,
    VersionDetail,
    parse_ref,
    short_workflow,
)
from chalicelib.store.models import ArtifactVersion, producer_of


def producer_text(produced_by: Any) -> str:
    """How a version came to be, in words: `upload s3://...`, `execution <name>`, `written by ...`."""
    producer = producer_of(produced_by)
    return producer.describe() if producer is not None else "unknown producer"


def plain(value: Any) -> Text:
    """A cell or label that shows `value` as typed: '[red]' in a partition value or log line stays text."""
    return Text("-" if value is None or value == "" else str(value))


def styled(value: Any, style: str) -> Text:
    return Text(str(value), style=style)


def partitions_text(partitions: dict[str, str], time_partition: str | None = None) -> str:
    parts = [f"{k}={v}" for k, v in sorted(partitions.items())]
    if time_partition:
        parts.append(f"time_partition={time_partition}")
    return ", ".join(parts) or "-"


def seconds(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def status_text(status: str | None) -> Text:
    return styled(status or "?", STATUS_STYLE.get(status or "", ""))


def view_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--json, --stage and --endpoint-url, shared by every view."""
    fn = stage_options(fn)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, and nothing else.")(fn)


def observer(stage: str | None, endpoint_url: str | None) -> Observer:
    from chalicelib.ops.stage import resolve

    target = resolve(stage, endpoint_url)
    return Observer.of(target.settings, target.endpoint_url)


def parse_partitions(pairs: tuple[str, ...]) -> dict[str, str]:
    out_: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise InputError(f"--partition {pair!r} is not KEY=VALUE; e.g. --partition region=emea")
        out_[key] = value
    return out_


# -- renderers (pure: data in, rich renderable out) --------------------------------------------------
def artifacts_table(summaries: list[Any]) -> Table:
    table = Table(title="Artifacts (newest first)", title_justify="left")
    for col in ("artifact", "versions", "latest version", "created"):
        table.add_column(col, overflow="fold", no_wrap=col in WHOLE)
    for a in summaries:
        table.add_row(plain(a.name), str(a.versions), plain(a.latest), plain(a.latest_created_at))
    return table


def versions_table(name: str, versions: list[ArtifactVersion]) -> Table:
    table = Table(title=Text(f"{name}: {len(versions)} version(s), newest first"), title_justify="left")
    for col in ("version", "partitions", "created", "produced by"):
        table.add_column(col, overflow="fold", no_wrap=col in WHOLE)
    for v in versions:
        report = v.report()
        table.add_row(plain(v.version), plain(partitions_text(v.partitions, report["time_partition"])),
                      plain(report["created_at"]), plain(v.produced_by.describe() if v.produced_by else "-"))
    return table


def version_table(detail: VersionDetail) -> Table:
    v = detail.version
    table = Table(title=Text(f"{v['name']}:{v['version']}"), title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, Any]] = [
        ("artifact", v["name"]), ("version", v["version"]),
        ("partitions", partitions_text(v["partitions"])), ("time partition", v["time_partition"]),
        ("format", v["format"]), ("uri", v["uri"]), ("created", v["created_at"]),
    ]
    p = detail.produced_by
    if p is not None:
        rows.append(("produced by", f"{short_workflow(p.workflow)} · {p.name} · {p.status}"))
    else:
        rows.append(("produced by", producer_text(v.get("produced_by"))))
    card = v.get("card")
    if card:
        rows.append(("card", card.get("text") if isinstance(card, dict) else card))
    for field, value in rows:
        table.add_row(field, plain(value))
    return table


def edges_table(detail: VersionDetail) -> Table | None:
    used = [e for e in detail.edges if e["kind"] != "output"]
    if not used:
        return None
    table = Table(title="Set off / read by", title_justify="left")
    for col in ("how", "workflow", "launch plan", "execution", "input"):
        table.add_column(col, overflow="fold", no_wrap=col in WHOLE)
    for e in sorted(used, key=lambda e: (e["at"], e["execution"])):
        how = "triggered" if e["kind"] == "trigger" else f"read ({e['via']})"
        table.add_row(how, plain(short_workflow(e["workflow"])), plain(e["launch_plan"]),
                      plain(e["execution"].rsplit(":", 1)[-1]), plain(e["input"]))
    return table


def executions_table(rows: list[ExecutionRow]) -> Table:
    table = Table(title="Executions (newest first)", title_justify="left")
    notified = any(r.notified for r in rows)  # the column only where a notification was sent
    cols = ("started", "workflow", "launch plan", "status", "triggered by", "seconds", "execution", "error")
    for col in cols + (("notified",) if notified else ()):
        table.add_column(col, no_wrap=col in WHOLE, overflow="fold")
    for r in rows:
        trig = f"{r.triggered_by['artifact']}:{r.triggered_by['version']}" if r.triggered_by else None
        trig = trig or (f"schedule {r.scheduled_at}" if r.scheduled_at else None)
        error = f"{r.error}: {one_line(r.cause, 80)}" if r.error and r.cause else (r.error or None)
        status = status_text(r.status) if not r.waiting_on else \
            status_text("WAITING").append(f" ({', '.join(r.waiting_on)})")
        cells = [plain(r.started_at), plain(short_workflow(r.workflow)), plain(r.launch_plan),
                 status, plain(trig), seconds(r.duration_s), plain(r.name), plain(error)]
        table.add_row(*cells, *([plain(", ".join(r.notified) or None)] if notified else []))
    return table


def _version_label(node: GraphNode) -> Text:
    text = Text(f"{node.artifact}:{node.version}", style="bold cyan")
    text.append(f"  {partitions_text(node.partitions, node.time_partition)}", style="dim")
    return text


def _execution_label(node: GraphNode, how: str) -> Text:
    text = Text(f"{how} ")
    text.append(short_workflow(node.workflow), style="bold")
    if node.launch_plan:
        text.append(f" ({node.launch_plan})")
    text.append(" ")
    text.append(node.status or "?", style=STATUS_STYLE.get(node.status or "", ""))
    if node.duration_s is not None:
        text.append(f" {node.duration_s:.2f} s")
    text.append(f"  {node.label}", style="dim")
    return text


def lineage_tree(graph: LineageGraph) -> Tree:
    """The graph as an indented tree: upstream (how the root came to be) and downstream (what it set off).
    A node reached twice is shown again but expanded once."""
    nodes = {n.id: n for n in graph.nodes}
    into: dict[str, list[Any]] = {}
    outof: dict[str, list[Any]] = {}
    for e in graph.edges:
        into.setdefault(e.target, []).append(e)
        outof.setdefault(e.source, []).append(e)

    def how(edges: list[Any], upstream: bool) -> tuple[str, str]:
        """('triggered by' | 'read' | 'triggered' | 'read by', ' as orders' or '')."""
        inputs = sorted({e.input for e in edges if e.input})
        if any(e.kind == "trigger" for e in edges):
            word = "triggered by" if upstream else "triggered"
        else:
            word = "read" if upstream else "read by"
        return word, (f"  as {', '.join(inputs)}" if inputs else "")

    def grouped(edges: list[Any], key: str) -> dict[str, list[Any]]:
        out_: dict[str, list[Any]] = {}
        for e in edges:
            out_.setdefault(getattr(e, key), []).append(e)
        return out_

    def again(text: Text, nid: str, seen: set[str]) -> Text:
        return text.append("  (see above)", style="dim") if nid in seen else text

    def up(branch: Tree, nid: str, seen: set[str]) -> None:
        if nid in seen:
            return
        seen.add(nid)
        node = nodes[nid]
        if node.kind == "version":
            producers = [e for e in into.get(nid, []) if e.kind == "output"]
            if not producers:
                branch.add(Text(producer_text(node.produced_by), style="dim"))
            for e in producers:
                child = branch.add(again(_execution_label(nodes[e.source], "made by"), e.source, seen))
                up(child, e.source, seen)
        else:
            for source, edges in grouped(into.get(nid, []), "source").items():
                word, suffix = how(edges, upstream=True)
                label = Text(f"{word} ").append_text(_version_label(nodes[source])).append(suffix, style="italic")
                child = branch.add(again(label, source, seen))
                up(child, source, seen)

    def down(branch: Tree, nid: str, seen: set[str]) -> None:
        if nid in seen:
            return
        seen.add(nid)
        node = nodes[nid]
        if node.kind == "version":
            for target, edges in grouped([e for e in outof.get(nid, []) if e.kind != "output"], "target").items():
                word, suffix = how(edges, upstream=False)
                label = _execution_label(nodes[target], word).append(suffix, style="italic")
                child = branch.add(again(label, target, seen))
                down(child, target, seen)
        else:
            for e in outof.get(nid, []):
                label = Text("made ").append_text(_version_label(nodes[e.target]))
                child = branch.add(again(label, e.target, seen))
                down(child, e.target, seen)

    root = nodes[graph.root]
    tree = Tree(_version_label(root))
    up(tree.add(Text("upstream", style="magenta")), graph.root, set())
    downstream = tree.add(Text("downstream", style="magenta"))
    down(downstream, graph.root, set())
    if not downstream.children:
        downstream.add(Text("nothing yet", style="dim"))
    if graph.truncated:
        tree.add(Text("… graph truncated; pass a smaller --depth", style="yellow"))
    return tree


# -- commands ---------------------------------------------------------------------------------------
class _DefaultList(click.Group):
    """`artifacts [NAME]` lists; `artifacts show NAME[:VERSION]` shows one version."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_DefaultList)
def artifacts() -> None:
    """Artifacts and their versions: `artifacts [NAME] [--partition k=v]`, `artifacts show NAME[:VERSION]`."""


@artifacts.command("list")
@click.argument("name", required=False)
@click.option("--partition", "partitions", multiple=True, metavar="KEY=VALUE", help="Keep versions with this partition.")
@click.option("--limit", default=50, show_default=True, help="At most this many versions.")
@view_options
def artifacts_list(name: str | None, partitions: tuple[str, ...], limit: int, as_json: bool, stage: str | None,
                   endpoint_url: str | None) -> None:
    """Every artifact, or the versions of NAME, newest first."""
    obs = observer(stage, endpoint_url)
    wanted = parse_partitions(partitions)
    if name is None and not wanted:
        summaries = obs.artifacts()
        if as_json:
            print_json([s.model_dump() for s in summaries])
        else:
            out.print(artifacts_table(summaries))
        return
    names = [name] if name else [a.name for a in obs.artifacts()]
    found = {n: obs.versions(n, wanted, limit=limit) for n in names}
    if as_json:
        print_json([v.report() for versions in found.values() for v in versions])
        return
    for n, versions in found.items():
        if versions or name:
            out.print(versions_table(n, versions))


@artifacts.command("show")
@click.argument("ref", metavar="NAME[:VERSION]")
@view_options
def artifacts_show(ref: str, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """One version (the newest if VERSION is left out): where it lives, who made it, what it set off."""
    name, version = parse_ref(ref)
    detail = observer(stage, endpoint_url).version_detail(name, version)
    if as_json:
        print_json(detail.model_dump())
        return
    out.print(version_table(detail))
    used = edges_table(detail)
    if used is not None:
        out.print(used)


@main.command()
@click.option("--workflow", default=None, help="Only this workflow (short or full name).")
@click.option("--status", default=None, type=click.Choice(STATUSES, case_sensitive=False), help="Only this status.")
@click.option("--limit", default=50, show_default=True, help="At most this many executions.")
@view_options
def executions(workflow: str | None, status: str | None, limit: int, as_json: bool, stage: str | None,
               endpoint_url: str | None) -> None:
    """Executions, newest first, with the artifact version that triggered each and its duration."""
    rows = observer(stage, endpoint_url).executions(workflow=workflow, status=status, limit=limit)
    if as_json:
        print_json([r.model_dump() for r in rows])
    else:
        out.print(executions_table(rows))


@main.command()
@click.argument("execution")
@click.option("--cloudwatch", is_flag=True,
              help="Read the task-runner log group for the execution's time window instead of the stored output.")
@view_options
def logs(execution: str, cloudwatch: bool, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """What the tasks of EXECUTION (name or ARN) printed."""
    obs = observer(stage, endpoint_url)
    arn = obs.resolve_execution(execution)
    lines = obs.logs(arn, cloudwatch=cloudwatch)
    row = obs.describe(arn)
    failure = failure_of(obs, arn, row) if row.status in ("FAILED", "TIMED_OUT", "ABORTED") else None
    if as_json:
        doc: dict[str, Any] = {"execution": arn, "lines": lines}
        if failure is not None:
            doc["status"], doc["failure"] = row.status, failure
        print_json(doc)
    else:
        for line in lines:
            out.print(line, markup=False, highlight=False, soft_wrap=True)
        if failure is not None:
            node = f" in {failure['node']}" if failure["node"] else ""
            err.print(f"{row.name} {row.status}{node}: {failure['error'] or '-'}: {failure['message'] or '-'}",
                      style="red", markup=False, highlight=False, soft_wrap=True)
    if failure is not None:
        raise SystemExit(1)


def failure_of(obs: Observer, arn: str, row: ExecutionRow) -> dict[str, Any]:
    """The failing node, its error type and message: from the execution's history, else from its cause."""
    from chalicelib.observe import task_cause

    node, error, message = None, row.error, row.cause
    try:
        entered = None
        for page in obs.sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            for event in page["events"]:
                details = event.get("stateEnteredEventDetails")
                if details:
                    entered = details.get("name")
                    continue
                if event["type"].endswith("Failed") and event["type"] != "ExecutionFailed":
                    info = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
                    node = entered
                    error = info.get("error") or error
                    message = task_cause(info.get("cause")) or message
                    raise StopIteration
    except StopIteration:
        pass
    except Exception:  # the history is a nicety; the cause is enough
        pass
    return {"node": node, "error": error, "message": one_line(message)}


def one_line(text: str | None, limit: int | None = None) -> str | None:
    if not text:
        return text
    line = " ".join(str(text).split())
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


@main.command()
@click.argument("ref", metavar="NAME[:VERSION]")
@click.option("--depth", default=6, show_default=True, help="Hops to follow each way.")
@view_options
def lineage(ref: str, depth: int, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Where a version came from and what it set off (the newest version if VERSION is left out)."""
    name, version = parse_ref(ref)
    graph = observer(stage, endpoint_url).lineage(name, version, depth=depth)
    if as_json:
        print_json(graph.model_dump())
    else:
        out.print(lineage_tree(graph))
