"""Lineage edges on a three-level cascade (ingest → clean → summarize), read in both directions."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import EXAMPLES

CASCADE = EXAMPLES / "order_cascade.py"


@pytest.fixture(scope="module")
def cascade() -> Iterator[dict[str, Any]]:
    """One local cloud for the module; the cascade ran for two regions (emea, then apac)."""
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader
    from chalicelib.local.cloud import LocalCloud

    with LocalCloud() as cloud:
        defs = loader.load_paths([CASCADE])
        reports = {region: run_in_cloud(cloud, defs, "ingest", {"region": region, "note": "n"})
                   for region in ("emea", "apac")}
        for rep in reports.values():
            assert not rep["errors"], rep["errors"]
            assert [e["status"] for e in rep["executions"]][-3:] == ["SUCCEEDED"] * 3
        yield {"cloud": cloud, "reports": reports}


def by_workflow(rep: dict[str, Any], short: str, region: str) -> dict[str, Any]:
    """The execution of workflow `short` that handled `region`."""
    for ex in rep["executions"]:
        if ex["workflow"].endswith("." + short) and ex["inputs"].get("region") == region:
            return ex
    raise AssertionError(f"no {short} execution for {region}")


def version_of(rep: dict[str, Any], name: str, region: str) -> dict[str, Any]:
    return next(a for a in rep["artifacts"] if a["name"] == name and a["partitions"]["region"] == region)


@pytest.fixture(scope="module")
def store(cascade: dict[str, Any]) -> Any:
    from chalicelib import aws
    from chalicelib.store.lineage import LineageStore

    settings = cascade["cloud"].settings
    return LineageStore(settings, aws.client("dynamodb", settings.region))


def edge_set(edges: list[Any]) -> set[tuple[Any, ...]]:
    return {(e.kind, e.artifact, e.version, e.execution.rsplit(":", 1)[-1], e.input, e.via) for e in edges}


def test_execution_side_lists_trigger_inputs_and_outputs(cascade: dict[str, Any], store: Any) -> None:
    rep = cascade["reports"]["apac"]
    raw = version_of(rep, "raw_orders", "apac")
    clean = version_of(rep, "clean_orders", "apac")
    summary = version_of(rep, "order_summary", "apac")
    clean_run = by_workflow(rep, "clean", "apac")
    summarize_run = by_workflow(rep, "summarize", "apac")
    ingest_run = by_workflow(rep, "ingest", "apac")

    assert edge_set(store.for_execution(clean_run["id"])) == {
        ("trigger", "raw_orders", raw["version"], clean_run["name"], None, None),
        ("input", "raw_orders", raw["version"], clean_run["name"], "orders", "artifact"),
        ("output", "clean_orders", clean["version"], clean_run["name"], None, None),
    }
    # summarize: triggered by clean_orders, read it, and read raw_orders through a query
    assert edge_set(store.for_execution(summarize_run["id"])) == {
        ("trigger", "clean_orders", clean["version"], summarize_run["name"], None, None),
        ("input", "clean_orders", clean["version"], summarize_run["name"], "clean", "artifact"),
        ("input", "raw_orders", raw["version"], summarize_run["name"], "raw", "query"),
        ("output", "order_summary", summary["version"], summarize_run["name"], None, None),
    }
    # started by hand: no trigger, no artifact input
    assert edge_set(store.for_execution(ingest_run["id"])) == {
        ("output", "raw_orders", raw["version"], ingest_run["name"], None, None),
    }


def test_version_side_lists_producer_and_consumers(cascade: dict[str, Any], store: Any) -> None:
    rep = cascade["reports"]["emea"]
    raw = version_of(rep, "raw_orders", "emea")
    ingest_run, clean_run, summarize_run = (by_workflow(rep, w, "emea") for w in ("ingest", "clean", "summarize"))

    edges = store.for_version("raw_orders", raw["version"])
    assert {(e.kind, e.execution) for e in edges} == {
        ("output", ingest_run["id"]),
        ("trigger", clean_run["id"]),
        ("input", clean_run["id"]),
        ("input", summarize_run["id"]),
    }
    trigger = next(e for e in edges if e.kind == "trigger")
    assert trigger.workflow == "order_cascade.clean" and trigger.launch_plan == "clean_on_raw"
    # the apac versions are separate: none of emea's executions touched them
    apac_raw = version_of(cascade["reports"]["apac"], "raw_orders", "apac")
    assert not {e.execution for e in store.for_version("raw_orders", apac_raw["version"])} & {
        ingest_run["id"], clean_run["id"], summarize_run["id"]}


def test_each_direction_is_one_query(cascade: dict[str, Any], store: Any) -> None:
    rep = cascade["reports"]["emea"]
    raw = version_of(rep, "raw_orders", "emea")
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name)

    store.dynamodb.meta.events.register("before-call.dynamodb", count)
    try:
        store.for_version("raw_orders", raw["version"])
        store.for_execution(by_workflow(rep, "summarize", "emea")["id"])
    finally:
        store.dynamodb.meta.events.unregister("before-call.dynamodb", count)
    assert calls == ["before-call.dynamodb.Query", "before-call.dynamodb.Query"]


def test_rewriting_edges_is_idempotent(cascade: dict[str, Any], store: Any) -> None:
    """A retried task writes the same edges again; nothing is duplicated."""
    rep = cascade["reports"]["emea"]
    run = by_workflow(rep, "summarize", "emea")
    before = store.for_execution(run["id"])
    store.put(before)
    after = store.for_execution(run["id"])
    assert edge_set(after) == edge_set(before) and len(after) == len(before)


def test_failed_query_still_records_the_trigger(cascade: dict[str, Any], store: Any) -> None:
    """A run whose query input finds nothing fails, and its lineage still names what triggered it."""
    from chalicelib.errors import NoMatchingVersionError
    from chalicelib.events.task import TaskEvent
    from chalicelib.runtime.runner import default_runner
    from chalicelib.runtime.trail import TaskTrail

    # any version will do as the trigger; order_summary's is one no other test counts edges of
    summary = version_of(cascade["reports"]["emea"], "order_summary", "emea")
    arn = "arn:aws:states:us-east-1:123456789012:execution:cascade-local-x:failed-run"
    event = TaskEvent(
        workflow="order_cascade.summarize", node="n0", task={"module": "order_cascade", "name": "total"},
        bindings={"raw": {"input": "raw"}}, inputs={}, results={}, execution_id=arn,
        execution_start="2026-11-25T00:00:00Z",
        meta={"workflow": "order_cascade.summarize", "launch_plan": "lp",
              "triggered_by": {"artifact": "order_summary", "version": summary["version"]}},
    )
    trail = TaskTrail.from_event(store, event)
    missing = {"$query": {"artifact": "raw_orders", "partitions": {"region": "nowhere"}, "time_partition": None}}
    with pytest.raises(NoMatchingVersionError):
        trail.pin({"raw": missing}, default_runner().binder.resolve_query)
    assert edge_set(store.for_execution(arn)) == {
        ("trigger", "order_summary", summary["version"], "failed-run", None, None)}
