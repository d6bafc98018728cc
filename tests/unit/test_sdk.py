from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Annotated

import pytest

from chalicelib import Artifact, Granularity, Inputs, LaunchPlan, OnArtifact, task, workflow
from chalicelib.errors import (
    CascadeError,
    DefinitionError,
    InvalidNameError,
    PartitionMismatchError,
    TimePartitionError,
)

Sales = Artifact(name="sales", partition_keys=["region"], time_partitioned=True)
Plain = Artifact(name="plain")


def test_importing_the_sdk_does_not_import_pandas():
    import subprocess

    code = "import chalicelib, sys; sys.exit(1 if 'pandas' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_create_from_normalizes_time_partition_to_utc_day():
    value = Sales.create_from([1, 2], region="emea", time_partition=datetime(2026, 11, 25, 13, 45, tzinfo=timezone.utc))
    assert value.partitions == {"region": "emea"}
    assert value.time_partition == datetime(2026, 11, 25, tzinfo=timezone.utc)


def test_granularity_hour():
    hourly = Artifact("hourly", time_partition_granularity=Granularity.HOUR)
    value = hourly.create_from(1, time_partition="2026-11-25T13:45:10+02:00")
    assert value.time_partition == datetime(2026, 11, 25, 11, tzinfo=timezone.utc)


def test_create_from_with_wrong_partition_key_names_the_keys():
    with pytest.raises(PartitionMismatchError) as err:
        Sales.create_from([1], regoin="emea", time_partition=datetime.now())
    assert "['region']" in str(err.value) and "['regoin']" in str(err.value)


def test_time_partition_on_untimed_artifact_is_refused():
    with pytest.raises(TimePartitionError, match="not time partitioned"):
        Plain.create_from(1, time_partition=datetime.now())


def test_missing_time_partition_is_refused_when_finalizing():
    with pytest.raises(TimePartitionError, match="time partitioned; pass time_partition"):
        Sales.finalize({"region": "emea"}, None)


@pytest.mark.parametrize("value", ["../etc", "a/b", "k=v", "x#y", "a|b", "nul\x00", " padded", ""])
def test_partition_values_that_could_forge_keys_are_refused(value):
    with pytest.raises(InvalidNameError):
        Sales.create_from(1, region=value, time_partition=datetime.now())


@pytest.mark.parametrize("name", ["bad/name", "has space", "", "x" * 200, "../up"])
def test_artifact_names_are_checked(name):
    with pytest.raises(InvalidNameError):
        Artifact(name)


def test_annotation_binding_to_unknown_input_fails_at_definition():
    with pytest.raises(DefinitionError, match="no input 'nope'"):
        @task
        def t(region: str) -> Annotated[int, Sales(region=Inputs.nope)]:
            return 1


def test_annotation_with_unknown_partition_key_fails_at_definition():
    with pytest.raises(PartitionMismatchError):
        Sales(country=Inputs.region)


def test_workflow_traces_nodes_and_bindings():
    @task
    def a(x: int) -> int:
        return x + 1

    @task
    def b(y: int, z: int) -> int:
        return y * z

    @workflow
    def wf(x: int = 1) -> int:
        first = a(x=x)
        return b(y=first, z=3)

    assert [n.task.short_name.split(".")[-1] for n in wf.nodes] == ["a", "b"]
    assert wf.nodes[0].bindings == {"x": {"input": "x"}}
    assert wf.nodes[1].bindings == {"y": {"node": "n0", "output": "o0"}, "z": {"const": 3}}
    assert wf.nodes[1].upstream == ["n0"]
    assert wf.output_bindings == {"o0": {"node": "n1", "output": "o0"}}


def test_task_called_with_unknown_input_fails_at_definition():
    @task
    def a(x: int) -> int:
        return x

    with pytest.raises(DefinitionError, match="has no input 'y'"):
        @workflow
        def wf() -> int:
            return a(y=1)


def test_launch_plan_trigger_must_fill_required_inputs():
    @task
    def a(x: int) -> None:
        print(x)

    @workflow
    def wf(x: int) -> None:
        a(x=x)

    with pytest.raises(DefinitionError, match="cannot fill input 'x'"):
        LaunchPlan.create("lp", wf, trigger=OnArtifact(trigger_on=Sales))
    with pytest.raises(DefinitionError, match="has no input 'nope'"):
        LaunchPlan.create("lp", wf, trigger=OnArtifact(trigger_on=Sales, inputs={"nope": 1}))
    lp = LaunchPlan.create("lp", wf, trigger=OnArtifact(trigger_on=Sales, inputs={"x": 3}))
    assert lp.bindings == {"x": {"const": 3}}


def test_every_error_has_one_root():
    for cls in (DefinitionError, PartitionMismatchError, TimePartitionError, InvalidNameError):
        assert issubclass(cls, CascadeError)


def test_seed_example_defines_its_graph():
    from chalicelib.runtime import loader
    from tests.conftest import SEED

    defs = loader.load_paths([SEED])
    assert set(defs.launch_plans) == {"downstream_with_trigger_lp"}
    lp = defs.launch_plans["downstream_with_trigger_lp"]
    assert lp.trigger.artifact.name == "my_upstream_artifact"
    up = defs.workflow("upstream_wf")
    assert up.nodes[0].bindings == {"key1": {"const": "value1"}}
    spec = up.nodes[0].task.outputs[0].artifact
    assert spec.artifact.name == "my_upstream_artifact" and spec.partitions == {"key1": Inputs.key1}
