"""StructuredDataset, queries bound to workflow inputs, Echo, launch plans and package-relative imports, each
run on the local cloud through an example file (or a file written for the test)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.integration.test_seed_e2e import cli


def _run(cloud, workflow: str, inputs: dict, path: Path = EXAMPLES / "flyte_structured.py") -> dict:
    from chalicelib.cli.run import run_in_cloud
    from chalicelib.runtime import loader

    return run_in_cloud(cloud, loader.load_paths([path]), workflow, inputs)


def test_a_structured_dataset_crosses_as_parquet_and_each_task_reads_its_column_subset():
    proc = cli("run", str(EXAMPLES / "flyte_structured.py"), "subset_wf", "--a", "19", "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    [ex] = json.loads(proc.stdout)["executions"]
    assert ex["status"] == "SUCCEEDED", ex
    assert ex["outputs"]["o0"] == pytest.approx((19 + 22 + 30) / 3)
    assert ex["logs"] == ["columns ['Age']"]  # Annotated[StructuredDataset, kwtypes(Age=int)] read only Age


def test_a_structured_dataset_artifact_is_parquet_and_a_query_default_reads_the_workflows_inputs(cloud, clients):
    from chalicelib.store.artifacts import ArtifactStore

    made = _run(cloud, "publish_people", {"region": "emea", "day": "2026-11-24"})
    [art] = made["artifacts"]
    assert art["name"] == "people" and art["format"] == "parquet"
    assert art["partitions"] == {"region": "emea"} and art["time_partition"] == "2026-11-24T00:00:00Z"
    frame = ArtifactStore(cloud.settings, clients["s3"], clients["dynamodb"]).load(
        ArtifactStore(cloud.settings, clients["s3"], clients["dynamodb"]).get("people", art["version"]))
    assert list(frame.columns) == ["Name", "Age", "Height"]  # stored whole; the subset is chosen on read

    # `people = People.query(region=Inputs.region, time_partition=Inputs.day)`: filled when the execution starts
    read = _run(cloud, "read_people", {"region": "emea", "day": "2026-11-24T15:00:00Z"})
    [done] = [e for e in read["executions"] if e["workflow"].endswith("read_people")]
    assert done["status"] == "SUCCEEDED" and done["outputs"]["o0"] == "Ann,Bo"
    # another region has no version: the query fails the execution, naming what it looked for
    missing = _run(cloud, "read_people", {"region": "apac", "day": "2026-11-24"})
    failed = [e for e in missing["executions"] if e["workflow"].endswith("read_people") and e["status"] != "SUCCEEDED"]
    assert failed and "region=apac" in (failed[0]["cause"] or "") + (failed[0]["error"] or "")


def test_a_query_default_reading_an_input_default_and_a_partial_query_takes_the_latest(cloud, tmp_path):
    flow = tmp_path / "bound_queries.py"
    flow.write_text(textwrap.dedent('''
        from typing_extensions import Annotated
        from chalicelib import Artifact, Inputs, task, workflow

        Score = Artifact(name="bq_score", partition_keys=["team", "stage"])

        @task
        def score(team: str, stage: str, points: int) -> Annotated[int, Score(team=Inputs.team)(stage=Inputs.stage)]:
            return points

        @workflow
        def publish(team: str, stage: str, points: int) -> int:
            return score(team=team, stage=stage, points=points)

        @task
        def show(s: int) -> int:
            return s

        @workflow
        def by_team(team: str = "red", s: int = Score.query(team=Inputs.team)) -> int:
            return show(s=s)
    '''))
    for team, stage, points in (("red", "a", 1), ("red", "b", 2), ("blue", "a", 7)):
        _run(cloud, "publish", {"team": team, "stage": stage, "points": points}, flow)
    # team comes from its default; stage is not given, so the latest of team red across stages
    by_red = [e for e in _run(cloud, "by_team", {}, flow)["executions"] if e["workflow"].endswith("by_team")]
    by_blue = [e for e in _run(cloud, "by_team", {"team": "blue"}, flow)["executions"]
               if e["workflow"].endswith("by_team") and e["id"] != by_red[0]["id"]]
    assert [(e["status"], e["outputs"]["o0"]) for e in by_red + by_blue] == [("SUCCEEDED", 2), ("SUCCEEDED", 7)]


def test_a_workflow_file_in_a_package_with_relative_imports_runs_and_its_tasks_import_by_package_name(tmp_path):
    pkg = tmp_path / "reg_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def zipsum(x, y):\n    return [a + b for a, b in zip(x, y)]\n")
    (pkg / "workflow.py").write_text(textwrap.dedent('''
        from typing import List
        from chalicelib import task, workflow
        from . import helpers

        @task
        def add(x: List[int], y: List[int]) -> List[int]:
            return helpers.zipsum(x, y)

        @workflow
        def simple_wf(x: List[int], y: List[int]) -> List[int]:
            return add(x=x, y=y)
    '''))
    (pkg / "launch_plan.py").write_text(textwrap.dedent('''
        from chalicelib import Echo, LaunchPlan, current_context, workflow
        from .workflow import simple_wf

        default_lp = LaunchPlan.get_default_launch_plan(current_context(), simple_wf)
        print("local", default_lp(x=[-3, 0, 3], y=[7, 4, -2]))
        simple_wf_lp = LaunchPlan.create(name="simple_wf_lp", workflow=simple_wf,
                                         default_inputs={"x": [-3, 0, 3], "y": [7, 4, -2]})
        echo = Echo(name="echo", inputs={"a": int})

        @workflow
        def echo_wf(a: int) -> int:
            return echo(a=a)
    '''))
    proc = cli("run", str(pkg / "launch_plan.py"), "simple_wf_lp", "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.startswith("local [4, 4, 1]\n")  # flytekit runs a launch plan called outside a workflow
    [ex] = json.loads(proc.stdout.split("\n", 1)[1])["executions"]
    assert ex["workflow"] == "reg_pkg.workflow.simple_wf" and ex["launch_plan"] == "simple_wf_lp"
    assert ex["status"] == "SUCCEEDED" and ex["outputs"]["o0"] == [4, 4, 1]
    proc = cli("run", str(pkg / "launch_plan.py"), "echo_wf", "--a", "7", "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    [ex] = json.loads(proc.stdout.split("\n", 1)[1])["executions"]
    assert ex["status"] == "SUCCEEDED" and ex["outputs"]["o0"] == 7  # the echo task ran in the task runner


def test_an_enum_input_is_given_on_the_command_line_by_value(tmp_path):
    flow = tmp_path / "enum_flow.py"
    flow.write_text(textwrap.dedent('''
        import enum
        from chalicelib import task, workflow

        class Color(enum.Enum):
            RED = "red"
            GREEN = "green"

        @task
        def paint(color: Color) -> str:
            return f"{type(color).__name__}.{color.name}"

        @workflow
        def paint_wf(color: Color = Color.GREEN) -> str:
            return paint(color=color)
    '''))
    proc = cli("run", str(flow), "paint_wf", "--color", "red", "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    [ex] = json.loads(proc.stdout)["executions"]
    assert ex["status"] == "SUCCEEDED" and ex["outputs"]["o0"] == "Color.RED"
    proc = cli("run", str(flow), "paint_wf", "--color", "blue")
    assert proc.returncode != 0 and "'blue'" in proc.stderr + proc.stdout
