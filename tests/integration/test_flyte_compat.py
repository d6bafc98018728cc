"""Flyte/Union constructs, each group through an example file run by `python -m chalicelib run ... --json`."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import datetime

import pytest

from tests.conftest import EXAMPLES
from tests.integration.test_seed_e2e import cli


def run_json(file: str, workflow: str, *inputs: str) -> dict:
    proc = cli("run", str(EXAMPLES / file), workflow, *inputs, "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


def by_name(report: dict) -> dict:
    return {a["name"]: a for a in report["artifacts"]}


def test_every_annotation_form_on_tasks_and_on_the_workflow_output():
    report = run_json("flyte_annotations.py", "annotations_wf", "--region", "apac", "--day", "2026-11-24T17:45:00Z")
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED"
    arts = by_name(report)
    assert set(arts) == {"plain_table", "row_count", "region_totals", "hourly_snapshot", "daily_summary"}
    assert arts["plain_table"]["partitions"] == {} and arts["plain_table"]["format"] == "parquet"  # Annotated[T, A]
    assert arts["row_count"]["format"] == "json"  # Annotated[T, A()]
    assert arts["region_totals"]["partitions"] == {"region": "apac"}  # A(key=Inputs.x)
    assert arts["hourly_snapshot"]["time_partition"] == "2026-11-24T17:00:00Z"  # A(time_partition=Inputs.t), HOUR
    # the workflow-level annotation: created when the workflow finished, from the workflow's inputs
    daily = arts["daily_summary"]
    assert daily["partitions"] == {"region": "apac"} and daily["time_partition"] == "2026-11-24T00:00:00Z"
    assert daily["produced_by"]["execution"] == ex["id"]
    assert ex["outputs"]["o0"]["$artifact"]["version"] == daily["version"]
    assert all(a["produced_by"]["execution"] == ex["id"] for a in report["artifacts"])


@pytest.mark.parametrize("workflow, artifact, value", [("plain_wf", "wf_plain", 42), ("called_wf", "wf_called", 8)])
def test_workflow_output_annotated_with_the_artifact_or_the_artifact_called(cloud, clients, workflow, artifact, value):
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader
    from chalicelib.store.artifacts import ArtifactStore

    report = run_in_cloud(cloud, loader.load_paths([EXAMPLES / "flyte_annotations.py"]), workflow, {})
    assert [e["status"] for e in report["executions"]] == ["SUCCEEDED"]
    [art] = report["artifacts"]
    assert art["name"] == artifact
    store = ArtifactStore(cloud.settings, clients["s3"], clients["dynamodb"])
    assert store.load(store.get(artifact, art["version"])) == value


def test_cards_are_stored_with_the_version_and_shown_in_the_report():
    report = run_json("flyte_cards.py", "cards_wf")
    arts = by_name(report)
    model, data = arts["churn_model"]["card"], arts["churn_dataset"]["card"]
    assert model == {"kind": "ModelCard", "text": "# Churn model\n\nbias = 0.333"}
    assert data["kind"] == "DataCard" and data["text"].startswith("# Churn data\n\n|")
    header = data["text"].splitlines()[2]  # a Markdown table from df.describe().to_markdown()
    assert [cell.strip() for cell in header.strip("|").split("|")] == ["", "tenure"]


def test_files_cross_by_reference_download_lazily_and_a_file_is_an_artifact():
    report = run_json("flyte_files.py", "files_wf", "--rows", "4")
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED" and ex["outputs"] == {"o0": 60}
    logs = ex["logs"]
    workdir = logs[0].removeprefix("workdir ")
    assert workdir.startswith("/") and not os.path.exists(workdir)  # the scratch directory is gone afterwards
    assert logs[1].startswith("remote s3://") and logs[1].endswith("/orders.csv")
    assert logs[2:4] == ["downloaded before .path: False", "downloaded after .path: True, inside workdir: True"]
    assert logs[4] == "parts ['nested/extra.txt', 'part-0.txt', 'part-1.txt']"
    [export] = report["artifacts"]
    assert export["name"] == "orders_export" and export["format"] == "file"
    assert export["uri"].endswith(f"/artifacts/orders_export/{export['version']}/orders.csv")


def test_a_file_artifact_holds_the_file_itself(cloud, clients):
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader
    from chalicelib.store.layout import split_uri

    report = run_in_cloud(cloud, loader.load_paths([EXAMPLES / "flyte_files.py"]), "files_wf", {"rows": "2"})
    [export] = report["artifacts"]
    bucket, key = split_uri(export["uri"])
    body = clients["s3"].get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.splitlines() == ["id,amount", "0,0", "1,10"]


def test_every_carried_type_arrives_as_its_declared_type():
    report = run_json("flyte_types.py", "types_wf", "--when", "2026-11-24T06:00:00Z")
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED" and ex["outputs"] == {"o0": "ok"}
    assert ex["logs"] == [
        "at: ('datetime', '2026-11-24T07:00:00+00:00')",
        "day: ('date', '2026-11-24')",
        "gap: ('timedelta', 5400.0)",
        "ratios: ('dict', {'half': 600.0, 'third': 400.0})",
        "items: ('list', 1200)",
        "upper: ('str', 'DEMO')",
        "missing: ('NoneType', None)",
        "df: ('DataFrame', 30)",
        "win: ('Window', 'date', 7)",
        "color: ('Color', 'blue')",
        "flag: ('bool', True)",
        "count: ('int', 1200)",
    ]


def test_triggered_launch_plan_gets_a_utc_datetime_defaults_fixed_and_a_static_input_from_definition_time():
    before = datetime.now().astimezone()
    report = run_json("flyte_launch_plans.py", "ingest", "--site", "north", "--at", "2026-11-24T17:45:00Z")
    ingest, summary = report["executions"]
    assert summary["launch_plan"] == "summary_on_readings" and summary["status"] == "SUCCEEDED"
    assert summary["outputs"] == {"o0": "triggered:north:0.5"}  # default threshold, fixed label
    hour, _, defined = summary["logs"]
    assert hour == "hour datetime 2026-11-24T17:00:00+00:00 tz=UTC"
    defined_at = datetime.fromisoformat(defined.removeprefix("defined_at datetime "))
    # evaluated when the file was imported: before the run started, never at trigger time
    assert before.replace(microsecond=0) <= defined_at <= datetime.fromisoformat(ingest["started_at"].replace("Z", "+00:00"))
    assert summary["inputs"]["defined_at"] == {"$datetime": defined_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_launch_plan_started_by_hand_applies_its_default_and_fixed_inputs(cloud):
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader

    defs = loader.load_paths([EXAMPLES / "flyte_launch_plans.py"])
    report = run_in_cloud(cloud, defs, "nightly_summary", {"hour": "2026-11-24T00:00:00Z", "threshold": "0.7"})
    [ex] = report["executions"]
    assert ex["launch_plan"] == "nightly_summary" and ex["workflow"].endswith(".summarize")
    assert ex["outputs"] == {"o0": "nightly:south:0.7"}  # given beats default; fixed applies
    assert ex["inputs"]["label"] == "nightly" and ex["inputs"]["site"] == "south"


def test_a_fixed_input_cannot_be_overridden():
    proc = cli("run", str(EXAMPLES / "flyte_launch_plans.py"), "nightly_summary", "--hour", "2026-11-24", "--label", "x")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "input 'label' is fixed by launch plan 'nightly_summary' to 'nightly'; it cannot be overridden" in proc.stderr


def test_four_workflow_reactive_chain():
    report = run_json("reactive_chain.py", "ingest_orders", "--day", "2026-11-24")
    ex = {e["workflow"].rsplit(".", 1)[1]: e for e in report["executions"]}
    assert set(ex) == {"ingest_orders", "audit_orders", "build_report", "notify"}
    assert all(e["status"] == "SUCCEEDED" for e in ex.values())
    arts = by_name(report)
    orders, report_file = arts["chain_orders"], arts["chain_daily_report"]
    # A triggers B and C
    for name in ("audit_orders", "build_report"):
        assert ex[name]["triggered_by"] == {"artifact": "chain_orders", "version": orders["version"]}
    assert ex["audit_orders"]["logs"] == ["audited 4 orders"]
    # C's workflow-level annotated output (a file) is the version that triggers D
    assert report_file["produced_by"]["execution"] == ex["build_report"]["id"] and report_file["format"] == "file"
    assert ex["notify"]["triggered_by"] == {"artifact": "chain_daily_report", "version": report_file["version"]}
    # D's inputs: the trigger's time partition (a datetime), the file, and a query on another artifact
    assert ex["notify"]["logs"] == [
        "day datetime 2026-11-24T00:00:00+00:00",
        "report report-2026-11-24.txt: report for 2026-11-24",
        "revenue 34.0",
    ]
    assert ex["notify"]["inputs"]["prices"]["$query"]["artifact"] == "chain_prices"


def test_a_type_the_engine_cannot_carry_fails_registration_naming_task_input_and_type(tmp_path):
    path = tmp_path / "bad_types.py"
    path.write_text(textwrap.dedent("""
        from chalicelib import task, workflow

        @task
        def pack(payload: bytes) -> int:
            return len(payload)

        @workflow
        def wf() -> int:
            return pack(payload="abc")
    """))
    proc = cli("run", str(path), "wf", "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and proc.stdout == ""
    assert "task 'pack', input 'payload': type bytes cannot be carried between tasks" in proc.stderr


def test_retries_rerun_a_failing_task_and_the_run_succeeds(cloud, tmp_path):
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader

    path = tmp_path / "flaky_once.py"
    path.write_text(textwrap.dedent("""
        from typing_extensions import Annotated
        from chalicelib import Artifact, task, workflow

        Attempts = Artifact(name="attempts")
        calls = []

        @task(retries=2)
        def flaky() -> Annotated[int, Attempts]:
            calls.append(1)
            print(f"attempt {len(calls)}")
            if len(calls) == 1:
                raise ConnectionError("transient")
            return len(calls)

        @workflow
        def wf() -> int:
            return flaky()
    """))
    report = run_in_cloud(cloud, loader.load_paths([path]), "wf", {})
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED" and ex["logs"] == ["attempt 1", "attempt 2"]
    assert report["errors"] == [] and len(report["artifacts"]) == 1


def test_a_file_input_given_by_hand_as_a_local_path(cloud, tmp_path):
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader

    orders = tmp_path / "orders.csv"
    orders.write_text("id,amount\n1,5\n2,7\n")
    report = run_in_cloud(cloud, loader.load_paths([EXAMPLES / "flyte_files.py"]), "total_wf", {"orders": str(orders)})
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED" and ex["outputs"] == {"o0": 12}
    assert ex["inputs"]["orders"] == {"$file": {"uri": orders.as_uri(), "name": "orders.csv"}}
