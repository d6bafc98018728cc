"""The CLI views (`artifacts`, `artifacts show`, `executions`, `logs`, `lineage`) on a three-level cascade."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from tests.conftest import EXAMPLES

NOTE = "[bold red]markup[/] <b>tag</b>"


@pytest.fixture(scope="module")
def cascade() -> Iterator[dict[str, Any]]:
    """One local cloud for the module; the cascade ran for emea, then apac."""
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader
    from chalicelib.local.cloud import LocalCloud

    with LocalCloud() as cloud:
        defs = loader.load_paths([EXAMPLES / "order_cascade.py"])
        reports = {region: run_in_cloud(cloud, defs, "ingest", {"region": region, "note": NOTE})
                   for region in ("emea", "apac")}
        assert not any(rep["errors"] for rep in reports.values())
        yield reports


@pytest.fixture
def cli(cascade: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from chalicelib.cli import main

    monkeypatch.setenv("COLUMNS", "250")  # rich wraps table cells to the terminal width
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    def invoke(*args: str, ok: bool = True) -> Any:
        result = CliRunner().invoke(main, list(args))
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def run_of(reports: dict[str, Any], short: str, region: str) -> dict[str, Any]:
    return next(e for e in reports[region]["executions"]
                if e["workflow"].endswith("." + short) and e["inputs"].get("region") == region)


def version_of(reports: dict[str, Any], name: str, region: str) -> str:
    return next(a["version"] for a in reports[region]["artifacts"]
                if a["name"] == name and a["partitions"]["region"] == region)


def test_artifacts_lists_every_artifact(cli: Any) -> None:
    rows = json.loads(cli("artifacts", "--json").stdout)
    assert {(r["name"], r["versions"]) for r in rows} == {("raw_orders", 2), ("clean_orders", 2), ("order_summary", 2)}
    table = cli("artifacts").output
    for name in ("raw_orders", "clean_orders", "order_summary"):
        assert name in table


def test_artifact_versions_newest_first_and_by_partition(cli: Any, cascade: Any) -> None:
    emea, apac = version_of(cascade, "raw_orders", "emea"), version_of(cascade, "raw_orders", "apac")
    rows = json.loads(cli("artifacts", "raw_orders", "--json").stdout)
    assert [r["version"] for r in rows] == [apac, emea]  # apac ran second
    only = json.loads(cli("artifacts", "raw_orders", "--partition", "region=emea", "--json").output)
    assert [(r["version"], r["partitions"]) for r in only] == [(emea, {"region": "emea"})]
    # without NAME: every artifact's versions in that partition
    everywhere = json.loads(cli("artifacts", "--partition", "region=apac", "--json").output)
    assert sorted(r["name"] for r in everywhere) == ["clean_orders", "order_summary", "raw_orders"]
    assert all(r["partitions"] == {"region": "apac"} for r in everywhere)
    table = cli("artifacts", "raw_orders").output
    assert table.index(apac) < table.index(emea)
    assert "region=emea, time_partition=2026-11-24T00:00:00Z" in table


def test_artifacts_show_names_producer_and_consumers(cli: Any, cascade: Any) -> None:
    version = version_of(cascade, "clean_orders", "emea")
    clean, summarize = run_of(cascade, "clean", "emea"), run_of(cascade, "summarize", "emea")
    detail = json.loads(cli("artifacts", "show", f"clean_orders:{version}", "--json").output)
    assert detail["version"]["version"] == version
    assert detail["produced_by"]["id"] == clean["id"]
    assert {(e["kind"], e["execution"]) for e in detail["edges"]} == {
        ("output", clean["id"]), ("trigger", summarize["id"]), ("input", summarize["id"])}
    text = cli("artifacts", "show", f"clean_orders:{version}").output
    assert f"clean · {clean['name']} · SUCCEEDED" in text
    assert "summarize_on_clean" in text and "triggered" in text
    # without a version: the newest (apac)
    newest = json.loads(cli("artifacts", "show", "clean_orders", "--json").stdout)
    assert newest["version"]["version"] == version_of(cascade, "clean_orders", "apac")


def test_executions_with_trigger_and_duration(cli: Any, cascade: Any) -> None:
    rows = json.loads(cli("executions", "--json").stdout)
    assert len(rows) == 6
    assert [r["started_at"] for r in rows] == sorted((r["started_at"] for r in rows), reverse=True)
    assert all(r["status"] == "SUCCEEDED" and r["duration_s"] is not None for r in rows)
    clean_rows = json.loads(cli("executions", "--workflow", "clean", "--json").stdout)
    assert {r["id"] for r in clean_rows} == {run_of(cascade, "clean", "emea")["id"], run_of(cascade, "clean", "apac")["id"]}
    for r in clean_rows:
        region = r["inputs"]["region"]
        assert r["triggered_by"] == {"artifact": "raw_orders", "version": version_of(cascade, "raw_orders", region)}
    assert json.loads(cli("executions", "--status", "failed", "--json").stdout) == []
    table = cli("executions", "--workflow", "order_cascade.summarize").output
    assert f"clean_orders:{version_of(cascade, 'clean_orders', 'emea')}" in table
    assert "ingest" not in table


def test_logs_by_name_or_arn(cli: Any, cascade: Any) -> None:
    ingest = run_of(cascade, "ingest", "emea")
    text = cli("logs", ingest["name"]).output
    assert text == f"loading orders for emea; note: {NOTE}\n"  # markup in a log line is printed as typed
    data = json.loads(cli("logs", ingest["id"], "--json").output)
    assert data == {"execution": ingest["id"], "lines": [f"loading orders for emea; note: {NOTE}"]}
    assert "kept 3 of 4 orders" in cli("logs", run_of(cascade, "clean", "emea")["name"]).output


def test_lineage_tree_upstream_and_downstream(cli: Any, cascade: Any) -> None:
    version = version_of(cascade, "clean_orders", "emea")
    text = cli("lineage", f"clean_orders:{version}").output
    lines = text.splitlines()
    assert lines[0].startswith(f"clean_orders:{version}  region=emea")

    def line_with(*parts: str) -> int:
        return next(i for i, line in enumerate(lines) if all(p in line for p in parts))

    up, down = line_with("upstream"), line_with("downstream")
    made_by_clean = line_with("made by clean (clean_on_raw) SUCCEEDED", run_of(cascade, "clean", "emea")["name"])
    raw = line_with("triggered by raw_orders:" + version_of(cascade, "raw_orders", "emea"), "as orders")
    made_by_ingest = line_with("made by ingest SUCCEEDED", run_of(cascade, "ingest", "emea")["name"])
    summarize = line_with("triggered summarize (summarize_on_clean)", "as clean")
    summary = line_with("made order_summary:" + version_of(cascade, "order_summary", "emea"))
    assert up < made_by_clean < raw < made_by_ingest < down < summarize < summary
    # indentation follows the chain
    indent = [len(lines[i]) - len(lines[i].lstrip("│ ├└─")) for i in (made_by_clean, raw, made_by_ingest)]
    assert indent == sorted(indent) and len(set(indent)) == 3
    assert "apac" not in text


def test_lineage_json_graph(cli: Any, cascade: Any) -> None:
    version = version_of(cascade, "order_summary", "apac")
    graph = json.loads(cli("lineage", f"order_summary:{version}", "--json").output)
    kinds = {n["id"]: n["kind"] for n in graph["nodes"]}
    assert graph["root"] == f"version:order_summary:{version}"
    assert sorted(kinds.values()) == ["execution"] * 3 + ["version"] * 3
    edges = {(e["source"].split(":")[1] if e["source"].startswith("version") else e["source"].rsplit(":", 1)[-1],
              e["kind"],
              e["target"].split(":")[1] if e["target"].startswith("version") else e["target"].rsplit(":", 1)[-1])
             for e in graph["edges"]}
    ingest, clean, summarize = (run_of(cascade, w, "apac")["name"] for w in ("ingest", "clean", "summarize"))
    assert edges == {
        (ingest, "output", "raw_orders"), ("raw_orders", "trigger", clean), ("raw_orders", "input", clean),
        (clean, "output", "clean_orders"), ("clean_orders", "trigger", summarize),
        ("clean_orders", "input", summarize), ("raw_orders", "input", summarize), (summarize, "output", "order_summary"),
    }
    layer = {n["id"]: n["layer"] for n in graph["nodes"]}
    assert all(layer[e["source"]] < layer[e["target"]] for e in graph["edges"])


def test_unknown_names_fail_with_a_hint(cli: Any) -> None:
    result = cli("artifacts", "nosuch", ok=False)
    assert result.exit_code == 1
    assert "no artifact named 'nosuch'" in result.output and "raw_orders" in result.output
    result = cli("logs", "no-such-run", ok=False)
    assert result.exit_code == 1 and "no execution named 'no-such-run'" in result.output
    result = cli("lineage", "raw_orders:20000101T000000000Z-0000000000", ok=False)
    assert result.exit_code == 1 and "has no version" in result.output
    result = cli("artifacts", "--partition", "region", ok=False)
    assert result.exit_code == 1 and "KEY=VALUE" in result.output


def test_run_progress_counts_executions_and_versions(cascade: Any) -> None:
    from chalicelib import aws
    from chalicelib.cli.progress import CascadeProgress
    from chalicelib.config import Settings

    settings = Settings.from_env()
    clock = iter([0.0, 2.5, 2.6]).__next__
    progress = CascadeProgress(aws.client("stepfunctions", settings.region), aws.client("dynamodb", settings.region),
                               settings, clock=clock)
    assert progress.text() == "running 2.5 s · 6 execution(s) (6 succeeded) · 6 artifact version(s)"
    assert progress.text().startswith("running 2.6 s")  # within `every`: counts reused, not re-read


def test_logs_from_cloudwatch_for_the_execution_window(cli: Any, cascade: Any) -> None:
    """Deployed, Lambda sends task stdout to the task runner's log group; `--cloudwatch` reads the lines
    logged while the execution ran, without Lambda's own START/END/REPORT lines."""
    from datetime import datetime

    from chalicelib import aws
    from chalicelib.config import Settings

    settings = Settings.from_env()
    run = run_of(cascade, "clean", "apac")
    missing = cli("logs", run["name"], "--cloudwatch", ok=False)
    assert missing.exit_code == 1 and f"log group '/aws/lambda/{settings.prefix}task_runner' does not exist" in missing.output

    def ms(text: str) -> int:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)

    start = ms(run["started_at"])
    stop = start + int(run["duration_s"] * 1000)
    logs = aws.client("logs", settings.region)
    group = f"/aws/lambda/{settings.prefix}task_runner"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": start - 5000, "message": "an earlier run\n"},
        {"timestamp": start + 1, "message": "START RequestId: 1 Version: $LATEST\n"},
        {"timestamp": start + 2, "message": "kept 3 of 4 orders\n"},
        {"timestamp": stop, "message": "END RequestId: 1\n"},
        {"timestamp": stop, "message": "REPORT RequestId: 1 Duration: 5 ms\n"},
        {"timestamp": stop + 5000, "message": "a later run\n"},
    ])
    data = json.loads(cli("logs", run["name"], "--cloudwatch", "--json").output)
    assert data["lines"] == ["kept 3 of 4 orders"]
