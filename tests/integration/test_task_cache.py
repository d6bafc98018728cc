"""The task cache on the local cloud: hits, misses, version bumps, ignored inputs, HashMethod and content
hashes of DataFrames, cache_serialize, artifact outputs kept to one version, and the cache CLI."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from chalicelib import aws
from chalicelib.ops import launch
from tests.integration.conftest import load, run


@pytest.fixture(scope="module")
def defs() -> Any:
    return load("cache_tasks")


def execution(report: dict[str, Any], arn: str | None = None) -> dict[str, Any]:
    """The newest execution of the report (or the one named `arn`)."""
    rows = report["executions"] if arn is None else [e for e in report["executions"] if e["id"] == arn]
    return rows[-1]


def computed(row: dict[str, Any]) -> list[str]:
    return [line for line in row["logs"] or [] if line.startswith("computing ")]


def task_results(cloud: Any, arn: str) -> dict[str, dict[str, Any]]:
    """Each Task state's result (what the task runner returned), by state name, from the execution history."""
    sfn = aws.client("stepfunctions", cloud.settings.region)
    out, entered = {}, None
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        for event in page["events"]:
            if event.get("stateEnteredEventDetails"):
                entered = event["stateEnteredEventDetails"]["name"]
            for key in ("taskSucceededEventDetails", "lambdaFunctionSucceededEventDetails"):
                if key in event:
                    out[entered] = json.loads(event[key]["output"])
    return out


def test_a_second_identical_run_hits_and_an_ignored_input_does_not_change_the_key(module_cloud, defs):
    first = execution(run(module_cloud, defs, "plain_wf", x=3, note="first"))
    assert first["status"] == "SUCCEEDED" and first["outputs"] == {"o0": 7}
    assert computed(first) == ["computing double(3)", "computing bump(6, first)"] and first["cached"] == []

    second = execution(run(module_cloud, defs, "plain_wf", x=3, note="other note"))  # note is ignored
    assert second["status"] == "SUCCEEDED" and second["outputs"] == {"o0": 7}
    assert computed(second) == []
    assert sorted(c["node"] for c in second["cached"]) == ["n0", "n1"]
    assert {c["from_execution"] for c in second["cached"]} == {first["id"]}
    results = task_results(module_cloud, second["id"])
    assert all(r["cached"] is True and r["cached_from"]["execution"] == first["id"] for r in results.values())
    assert any(line.startswith("[cache hit] n0 cache_tasks.double") for line in second["logs"])

    third = execution(run(module_cloud, defs, "plain_wf", x=4, note="first"))  # another input: a miss
    assert computed(third) == ["computing double(4)", "computing bump(8, first)"]


def test_a_new_cache_version_misses_then_hits(module_cloud, defs):
    run(module_cloud, defs, "plain_wf", x=21, note="n")
    bumped = execution(run(module_cloud, defs, "bumped_version_wf", x=21))  # with_overrides(cache=Cache(version="2"))
    assert computed(bumped) == ["computing double(21)"] and bumped["outputs"] == {"o0": 42}
    again = execution(run(module_cloud, defs, "bumped_version_wf", x=21))
    assert computed(again) == [] and [c["version"] for c in again["cached"]] == ["2"]


def test_cache_true_without_a_version_is_versioned_by_the_function_body(module_cloud, defs):
    assert computed(execution(run(module_cloud, defs, "body_wf", x=5))) == ["computing body_versioned(5)"]
    again = execution(run(module_cloud, defs, "body_wf", x=5))
    assert computed(again) == [] and again["outputs"] == {"o0": 4}
    assert len(again["cached"][0]["version"]) == 64  # a sha256 of the source


def test_a_cached_artifact_output_is_published_once(module_cloud, defs):
    first = execution(run(module_cloud, defs, "publish_wf", x=8))
    report = run(module_cloud, defs, "publish_wf", x=8)
    second = execution(report)
    assert computed(second) == [] and second["outputs"] == first["outputs"]
    versions = [a for a in report["artifacts"] if a["name"] == "cache_doubled"]
    assert len(versions) == 1 and versions[0]["produced_by"]["execution"] == first["id"]
    assert first["outputs"]["o0"]["$artifact"]["version"] == versions[0]["version"]


def test_dataframes_hash_by_their_hash_method_or_by_their_stored_content(module_cloud, defs):
    first = execution(run(module_cloud, defs, "frame_wf", n=4, salt="a"))
    assert sorted(computed(first)) == ["computing count_rows(4)", "computing total(4)"]  # run in parallel
    # another DataFrame with as many rows: HashMethod(rows_only) sees the same hash, the content differs
    other = execution(run(module_cloud, defs, "frame_wf", n=4, salt="b"))
    assert computed(other) == ["computing total(4)"]
    # the same content again, written by another execution to another key: its content hash is the same
    same = execution(run(module_cloud, defs, "frame_wf", n=4, salt="a"))
    assert computed(same) == [] and same["outputs"] == {"o0": 6}


def test_serialized_identical_executions_run_the_task_once(module_cloud, defs):
    run(module_cloud, defs, "serialized_wf", x=1)  # registers the workflow
    settings = module_cloud.settings
    sfn = aws.client("stepfunctions", settings.region)
    wf = defs.workflows["cache_tasks.serialized_wf"]
    arns: list[str] = []
    starts = [threading.Thread(target=lambda: arns.append(launch.start_workflow(sfn, settings, wf, {"x": 7})))
              for _ in range(3)]
    for t in starts:
        t.start()
    for t in starts:
        t.join()
    module_cloud.wait_quiet(120)
    from chalicelib.observe import Observer

    rows = [r for r in Observer(settings, aws.client("dynamodb", settings.region), sfn).report()["executions"]
            if r["id"] in arns]
    assert [r["status"] for r in rows] == ["SUCCEEDED"] * 3 and all(r["outputs"] == {"o0": 49} for r in rows)
    assert sum(len(computed(r)) for r in rows) == 1
    assert sum(len(r["cached"]) for r in rows) == 2


def test_the_cache_cli_lists_and_clears_entries(module_cloud, defs):
    from click.testing import CliRunner

    from chalicelib.cli import main

    run(module_cloud, defs, "plain_wf", x=31, note="n")
    cli = CliRunner()
    listed = cli.invoke(main, ["cache", "list", "--task", "double", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert rows and {r["task"] for r in rows} == {"cache_tasks.double"}
    everything = json.loads(cli.invoke(main, ["cache", "list", "--json"]).output)
    assert {"cache_tasks.double", "cache_tasks.bump"} <= {r["task"] for r in everything}

    refused = cli.invoke(main, ["cache", "clear"])
    assert refused.exit_code == 1 and "--task TASK or --all" in refused.output
    cleared = cli.invoke(main, ["cache", "clear", "--task", "cache_tasks.double", "--json"])
    assert cleared.exit_code == 0 and json.loads(cleared.output)["cleared"]["cache_tasks.double"] == len(rows)
    assert json.loads(cli.invoke(main, ["cache", "list", "--task", "double", "--json"]).output) == []
    rerun = execution(run(module_cloud, defs, "plain_wf", x=31, note="n"))
    assert computed(rerun) == ["computing double(31)"]  # bump still hits: its entries were kept
    assert json.loads(cli.invoke(main, ["cache", "clear", "--all", "--json"]).output)["cleared"]
    assert json.loads(cli.invoke(main, ["cache", "list", "--json"]).output) == []


def test_tasks_run_in_the_runner_sized_for_their_requests(module_cloud, defs):
    row = execution(run(module_cloud, defs, "sized_wf", x=1))
    assert row["status"] == "SUCCEEDED" and row["outputs"] == {"o0": 201}
    sfn = aws.client("stepfunctions", module_cloud.settings.region)
    machine = sfn.describe_execution(executionArn=row["id"])["stateMachineArn"]
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"])
    resources = {name: s["Resource"] for name, s in definition["States"].items() if s["Type"] == "Task"}
    assert resources["n0-big"].endswith(":function:cascade-local-task_runner")  # overridden to 1Gi
    assert resources["n1-big"].endswith(":function:cascade-local-task_runner_5120")  # its own 4Gi


def waiting_cache(cloud: Any) -> tuple[Any, Any, list[float]]:
    """A TaskCache on the local cloud's table whose clock moves only when it sleeps (waits are not timed)."""
    from chalicelib.runtime.cache import TaskCache
    from chalicelib.store.cache import CacheStore

    s = cloud.settings
    store = CacheStore(s.registry_table, aws.client("dynamodb", s.region), aws.client("s3", s.region))
    now = [2_000_000_000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    cache = TaskCache(store, lambda literal, hint: literal, clock=lambda: now[0], sleep=sleep, max_poll_seconds=60)
    return cache, store, slept


def waiter_event(version: str) -> Any:
    from chalicelib.events.task import TaskEvent

    return TaskEvent.from_dict({
        "workflow": "cache_tasks.serialized_wf", "node": "n0", "task": {"module": "cache_tasks", "name": "slow_square"},
        "bindings": {}, "meta": {}, "inputs": {}, "results": {}, "execution_start": "2026-11-24T10:00:00Z",
        "execution_id": "arn:aws:states:us-east-1:123456789012:execution:m:waiter",
        "cache": {"version": version, "serialize": True, "ignored": []}})


def test_a_waiter_takes_over_when_the_holder_died(module_cloud, defs):
    from chalicelib.runtime.cache import cache_key

    cache, store, slept = waiting_cache(module_cloud)
    task = defs.tasks["cache_tasks.slow_square"]
    key = cache_key(task, "died", cache.hashes(task, {"x": 5}, ()))
    start = cache.clock()
    assert store.reserve(task.name, key, "crashed-execution#n0", 930, start)  # and never stores nor releases
    slot = cache.lookup(waiter_event("died"), task, {"x": 5})
    assert slot.hit is None and slot.reserved  # the holder's time ran out: the waiter computes
    assert cache.clock() - start >= 930 and len(slept) > 1
    result = slot.run(lambda: {"outputs": {"o0": 25}, "artifacts": []})
    assert result == {"outputs": {"o0": 25}, "artifacts": []}
    assert store.get(task.name, key, cache.clock()).result == result
    assert store.reserve(task.name, key, "next#n0", 930, cache.clock())  # released after storing


def test_a_waiter_reuses_the_result_the_holder_stores_and_a_failed_holder_lets_it_compute(module_cloud, defs):
    from chalicelib.runtime.cache import cache_key

    cache, store, slept = waiting_cache(module_cloud)
    task = defs.tasks["cache_tasks.slow_square"]
    key = cache_key(task, "stored", cache.hashes(task, {"x": 6}, ()))
    holder = "holder-execution#n0"
    assert store.reserve(task.name, key, holder, 930, cache.clock())
    real_sleep = cache.sleep

    def holder_finishes(seconds: float) -> None:
        real_sleep(seconds)
        if len(slept) == 3:
            store.put(task.name, key, "stored", {"outputs": {"o0": 36}, "artifacts": []}, "holder-execution", "n0",
                      cache.clock())
            store.release(task.name, key, holder)

    cache.sleep = holder_finishes
    slot = cache.lookup(waiter_event("stored"), task, {"x": 6})
    assert slot.hit is not None and slot.hit["outputs"] == {"o0": 36} and slot.hit["cached"] is True
    assert slot.hit["cached_from"]["execution"] == "holder-execution" and len(slept) == 3

    # a holder whose task fails gives the reservation back at once
    failing = cache.lookup(waiter_event("fails"), task, {"x": 6})
    assert failing.reserved
    with pytest.raises(ZeroDivisionError):
        failing.run(lambda: {"o0": 1 // 0})
    assert store.reserve(task.name, failing.key, "another#n0", 930, cache.clock())


def test_a_producers_hash_method_keys_its_consumers_cache(module_cloud, defs):
    first = execution(run(module_cloud, defs, "hashed_output_wf", n=3, salt="a"))
    assert computed(first) == ["computing first_value(3)"]
    # another salt: other content, the same HashMethod(by_sum) hash on the producer's output, so a hit
    other = execution(run(module_cloud, defs, "hashed_output_wf", n=3, salt="b"))
    assert computed(other) == [] and other["outputs"] == {"o0": 0}
    assert computed(execution(run(module_cloud, defs, "hashed_output_wf", n=4, salt="a"))) == ["computing first_value(4)"]
