"""The seed example end to end on the local cloud, through the CLI and in-process."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from chalicelib.cli.run import run_in_cloud
from chalicelib.runtime import loader
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.models import ArtifactVersion
from tests.conftest import EXAMPLES, ROOT, SEED


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chalicelib", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_seed_report_through_the_cli():
    proc = cli("run", str(SEED), "upstream_wf", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # stdout holds exactly the report
    up, down = report["executions"]
    assert up["workflow"].endswith("upstream_wf") and up["launch_plan"] is None
    assert up["status"] == "SUCCEEDED" and up["triggered_by"] is None and up["inputs"] == {} and up["logs"] == []
    assert down["workflow"].endswith("downstream_wf")
    assert down["launch_plan"] == "downstream_with_trigger_lp"
    assert down["status"] == "SUCCEEDED" and down["inputs"] == {}
    assert down["logs"] == ["Downstream task triggered"]
    [artifact] = report["artifacts"]
    assert artifact["name"] == "my_upstream_artifact"
    assert artifact["partitions"] == {"key1": "value1"}
    assert artifact["time_partition"].endswith("T00:00:00Z")
    assert artifact["uri"].startswith("s3://") and artifact["uri"].endswith(f"/{artifact['version']}.parquet")
    assert "/key1=value1/time_partition=" in artifact["uri"]
    assert artifact["produced_by"]["execution"] == up["id"]
    assert down["triggered_by"] == {"artifact": "my_upstream_artifact", "version": artifact["version"]}


def test_seed_artifact_reads_back_equal_and_redelivery_starts_nothing(cloud, clients):
    defs = loader.load_paths([SEED])
    report = run_in_cloud(cloud, defs, "upstream_wf", {})
    assert [e["status"] for e in report["executions"]] == ["SUCCEEDED", "SUCCEEDED"]
    [artifact] = report["artifacts"]
    store = ArtifactStore(cloud.settings, clients["s3"], clients["dynamodb"])
    version = store.get("my_upstream_artifact", artifact["version"])
    df = store.load(version)
    pd.testing.assert_frame_equal(df, pd.DataFrame({"col1": [1, 2, 3], "col2": ["a", "b", "c"]}))
    # the same version found by "latest for these partitions" (one Query on an index)
    assert store.latest("my_upstream_artifact", {"key1": "value1"}).version == artifact["version"]

    # Re-writing the same version (a retried task) changes nothing and starts nothing.
    again = store.write("my_upstream_artifact", df, version.partitions, version.time_partition, version.version,
                      produced_by=version.produced_by)
    assert isinstance(again, ArtifactVersion) and again.uri == version.uri
    cloud.wait_quiet(30)
    sfn = clients["stepfunctions"]
    downstream = [e for e in run_in_cloud_executions(sfn) if "downstream" in e]
    assert len(downstream) == 1


def run_in_cloud_executions(sfn) -> list[str]:
    names = []
    for sm in sfn.list_state_machines()["stateMachines"]:
        names += [e["executionArn"] for e in sfn.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]]
    return names


def test_an_unseen_variant_runs_through_the_cli():
    proc = cli("run", str(EXAMPLES / "daily_sales.py"), "ingest", "--region", "apac", "--units", "7", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    ingest, rep = report["executions"]
    assert ingest["inputs"] == {"region": "apac", "units": 7}
    assert rep["launch_plan"] == "report_on_sales" and rep["logs"] == ["new daily sales arrived", "second line"]
    [artifact] = report["artifacts"]
    assert artifact["partitions"] == {"region": "apac"}
    assert artifact["time_partition"] == "2026-11-24T00:00:00Z"
    assert rep["triggered_by"]["version"] == artifact["version"]


def test_diamond_workflow_runs_on_moto_with_parallel_state(cloud):
    defs = loader.load_paths([ROOT / "tests" / "golden" / "diamond.py"])
    report = run_in_cloud(cloud, defs, "diamond", {"n": "4"})
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED", ex
    assert ex["outputs"] == {"o0": 2 * 4 + 4 * 4}
