"""`cache list [--task T]` and `cache clear (--task T | --all)`: the task cache's entries in a stage."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from chalicelib.cli import main
from chalicelib.cli.options import stage_options
from chalicelib.cli.output import out, print_json


def _store(stage: str | None, endpoint_url: str | None) -> Any:
    from chalicelib.ops.stage import resolve
    from chalicelib.store.cache import CacheStore

    found = resolve(stage, endpoint_url)
    return CacheStore(found.settings.registry_table, found.dynamodb)


def _matching(store: Any, task: str | None) -> list[str]:
    """Task names: a full name (`module.task`) as is, else every cached task whose short name is `task`."""
    tasks = store.tasks()
    if task is None:
        return tasks
    if task in tasks:
        return [task]
    return [t for t in tasks if t.rsplit(".", 1)[-1] == task] or [task]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@main.group()
def cache() -> None:
    """The task cache: results of `@task(cache=...)` tasks, reused by identical runs."""


@cache.command("list")
@click.option("--task", "task", default=None, metavar="TASK", help="Only this task (module.name, or its name).")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON on stdout, and nothing else.")
@stage_options
def list_entries(task: str | None, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """The cached results, newest first: task, cache version, key, the execution that computed it."""
    store = _store(stage, endpoint_url)
    entries = [e for name in _matching(store, task) for e in store.entries(name)]
    entries.sort(key=lambda e: (-e.created_at, e.task, e.key))
    rows = [{"task": e.task, "version": e.version, "key": e.key, "execution": e.execution, "node": e.node,
             "created_at": _iso(e.created_at), "expires_at": _iso(e.expires_at),
             "artifacts": [f"{a.get('name')}:{a.get('version')}" for a in e.result.get("artifacts", [])
                           if isinstance(a, dict)]} for e in entries]
    if as_json:
        print_json(rows)
        return
    view = Table(title=f"{len(rows)} cached results", title_justify="left")
    for col in ("task", "version", "key", "computed by", "created", "artifacts"):
        view.add_column(col, overflow="fold")
    for r in rows:
        view.add_row(Text(r["task"]), Text(r["version"]), r["key"][:16], Text(r["execution"].rsplit(":", 1)[-1]),
                     r["created_at"], Text(", ".join(r["artifacts"]) or "-"))
    out.print(view)


@cache.command("clear")
@click.option("--task", "task", default=None, metavar="TASK", help="Clear this task's entries (module.name, or its name).")
@click.option("--all", "everything", is_flag=True, help="Clear every task's entries.")
@click.option("--json", "as_json", is_flag=True, help="Print what was cleared as JSON on stdout, and nothing else.")
@stage_options
def clear(task: str | None, everything: bool, as_json: bool, stage: str | None, endpoint_url: str | None) -> None:
    """Delete cached results, so the next run of those tasks runs them (artifact versions stay)."""
    from chalicelib.errors import InputError

    if bool(task) == everything:
        raise InputError("cache clear needs --task TASK or --all (not both)")
    store = _store(stage, endpoint_url)
    cleared = {name: store.clear(name) for name in _matching(store, task)}
    if as_json:
        print_json({"cleared": cleared})
        return
    for name, count in cleared.items():
        out.print(Text(f"{name}: {count} cached results cleared"))
    if not cleared:
        out.print("nothing cached")
