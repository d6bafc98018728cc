"""Following a cascade on a stage from outside it: the executions started by hand (`run --stage S --wait`),
the versions they produced, the executions those versions triggered, and so on, until all are terminal and
nothing new appeared for a moment."""

from __future__ import annotations

import time
from typing import Any, Callable

from msgspec import Struct, field

from chalicelib.observe import Observer
from chalicelib.ops.stage import Stage

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def execution_arns(conn: Stage) -> set[str]:
    """Every execution of the stage's state machines (listed, not described)."""
    sfn, prefix = conn.client("stepfunctions"), conn.settings.prefix
    arns = set()
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            if sm["name"].startswith(prefix):
                for epage in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                    arns.update(ex["executionArn"] for ex in epage["executions"])
    return arns


def _key(v: dict[str, Any]) -> str:
    return f"{v['name']}:{v['version']}"


def closure(described: dict[str, dict[str, Any]], versions: list[dict[str, Any]], roots: set[str],
            root_versions: set[str] = frozenset()  # type: ignore[assignment]
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The executions and versions reachable from root executions (ARNs) and root versions ("name:version"):
    versions produced by chosen executions, executions triggered by chosen versions, transitively."""
    execs = {arn: ex for arn, ex in described.items() if arn in roots}
    chosen = {_key(v): v for v in versions if _key(v) in root_versions}
    grew = True
    while grew:
        new_versions = {_key(v): v for v in versions if _key(v) not in chosen
                        and (v["produced_by"] or {}).get("execution") in execs}
        chosen.update(new_versions)
        new_execs = {arn: ex for arn, ex in described.items() if arn not in execs and ex.get("triggered_by")
                     and f"{ex['triggered_by']['artifact']}:{ex['triggered_by']['version']}" in chosen}
        execs.update(new_execs)
        grew = bool(new_versions or new_execs)
    return (sorted(execs.values(), key=lambda r: (r["started_at"] or "", r["id"])),
            sorted(chosen.values(), key=lambda v: (v["version"], v["name"])))


class Cascade(Struct):
    executions: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    timed_out: bool = False


def follow(conn: Stage, roots: set[str], before: set[str], timeout: float = 600, settle: float = 1.5,
           poll: float = 0.25, on_tick: Callable[[list[dict[str, Any]]], None] | None = None) -> Cascade:
    """Wait until every execution reachable from `roots` is terminal and nothing new appeared for `settle`
    seconds (or `timeout` passed). Executions in `before` (listed before the roots started) are not followed."""
    observer = Observer(conn.settings, conn.dynamodb, conn.sfn)
    described: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    last: tuple[Any, ...] | None = None
    calm_since = time.monotonic()
    while True:
        for arn in (execution_arns(conn) | roots) - before:
            if arn not in described or described[arn]["status"] not in TERMINAL:
                described[arn] = observer.describe(arn, full=True).model_dump()
        versions = [v.report() for v in observer.store.all_versions()]
        execs, arts = closure(described, versions, roots)
        if on_tick:
            on_tick(execs)
        snapshot = (tuple((e["id"], e["status"]) for e in execs), tuple(_key(a) for a in arts))
        if snapshot != last:
            last, calm_since = snapshot, time.monotonic()
        if all(e["status"] in TERMINAL for e in execs) and time.monotonic() - calm_since >= settle:
            return Cascade(execs, arts)
        if time.monotonic() >= deadline:
            return Cascade(execs, arts, timed_out=True)
        time.sleep(poll)
