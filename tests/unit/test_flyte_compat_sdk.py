"""flytekit constructs at definition and registration: accepted, refused with a reason, or warned about."""

from __future__ import annotations

import os
import textwrap
import typing
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import chalicelib
from chalicelib import (
    Artifact,
    FlyteDirectory,
    FlyteFile,
    ImageSpec,
    LaunchPlan,
    ModelCard,
    OnArtifact,
    Resources,
    Secret,
    current_context,
    task,
    workflow,
)
from chalicelib.errors import ArtifactError, DefinitionError
from chalicelib.compile import portability
from chalicelib.runtime import loader
from chalicelib.sdk import carry as types
from chalicelib.sdk import cards, literals
from chalicelib.sdk.context import SecretNotFoundError, task_context

Sales = Artifact(name="sales", partition_keys=["region"], time_partitioned=True)


@task
def t_num(a: int, b: str) -> int:
    return a


@workflow
def wf_num(a: int, b: str = "x") -> int:
    return t_num(a=a, b=b)


# -- launch plans -------------------------------------------------------------------------------------------
def test_get_or_create_in_both_argument_styles_and_by_keyword():
    by_keyword = LaunchPlan.get_or_create(name="lp_kw", workflow=wf_num, default_inputs={"a": 1})
    positional = LaunchPlan.get_or_create(wf_num, "lp_pos", fixed_inputs={"a": 2})
    default = LaunchPlan.get_or_create(workflow=wf_num)
    assert (by_keyword.name, by_keyword.default_inputs) == ("lp_kw", {"a": 1})
    assert (positional.name, positional.fixed_inputs) == ("lp_pos", {"a": 2})
    assert default.name == "wf_num" and default.workflow is wf_num


def test_create_takes_flytekits_positional_order_and_a_positional_trigger():
    lp = LaunchPlan.create("lp_c", wf_num, {"a": 3}, {"b": "fixed"})
    assert lp.default_inputs == {"a": 3} and lp.fixed_inputs == {"b": "fixed"}
    trig = LaunchPlan.create("lp_t", wf_num, OnArtifact(trigger_on=Sales, inputs={"a": 1}))
    assert trig.trigger is not None and trig.default_inputs == {}


@pytest.mark.parametrize("keyword, message", [
    ("schedule", "schedule must be CronSchedule"),
    ("notifications", "notifications must be a list"),
    ("shedule", "unknown keyword shedule="),
])
def test_launch_plan_keywords_that_cannot_work_are_refused_at_definition(keyword, message):
    with pytest.raises(DefinitionError, match=message):
        LaunchPlan.get_or_create(workflow=wf_num, name="lp_x", **{keyword: object()})


def test_launch_plan_keywords_without_effect_are_accepted_and_reported():
    lp = LaunchPlan.get_or_create(workflow=wf_num, name="lp_meta", labels={"team": "a"}, max_parallelism=3,
                                  auto_activate=True, overwrite_cache=False)
    warnings = portability.check(loader.Definitions(launch_plans={lp.name: lp}, workflows={wf_num.name: wf_num}))
    assert "launch plan 'lp_meta': labels= has no effect here: not attached to executions" in warnings
    assert any("max_parallelism=" in w for w in warnings)


def test_calling_a_launch_plan_outside_a_workflow_runs_its_workflow_here():
    lp = LaunchPlan.get_or_create(workflow=wf_num, name="lp_call")
    assert lp(a=1) == wf_num(a=1)


# -- task keywords and unsupported constructs ---------------------------------------------------------------
def test_common_task_keywords_are_accepted():
    @task(cache=True, cache_version="2", retries=2, timeout=timedelta(minutes=5), interruptible=True,
          requests=Resources(cpu="2", mem="4Gi"), limits=Resources(mem="8Gi"),
          secret_requests=[Secret(group="db", key="password")], container_image=ImageSpec(packages=["pandas"]))
    def busy() -> int:
        return 1

    assert busy.options["retries"] == 2 and busy() == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"retires": 2}, "unknown keyword retires="),
    ({"timeout": 3600}, "timeout 3600 s is outside what Lambda can run"),
    ({"retries": -1}, "retries must be a whole number"),
    ({"task_config": object()}, "task plugins"),
    ({"requests": {"mem": "1Gi"}}, "requests= takes Resources"),
])
def test_task_keywords_that_cannot_work_are_refused_at_definition(kwargs, message):
    with pytest.raises(DefinitionError, match=message):
        task(**kwargs)(lambda: None)


@pytest.mark.parametrize("use, message", [
    (lambda: chalicelib.map_task(t_num, min_success_ratio=2), "min_success_ratio must be between 0 and 1"),
    (lambda: chalicelib.eager(lambda: None), "@eager workflows are not supported.*use @dynamic"),
    (lambda: chalicelib.dynamic(bogus=True)(lambda: None), "unknown keyword bogus="),
    (lambda: chalicelib.conditional("c").if_(True), "used outside a @workflow body"),
    (lambda: chalicelib.ContainerTask(name="x", image="y"), "ContainerTask is not supported"),
    (lambda: workflow(on_failure=t_num), "failure handlers are not supported"),
])
def test_unsupported_constructs_fail_with_a_cascade_error_when_used(use, message):
    with pytest.raises(DefinitionError, match=message):
        use()


def test_a_deck_is_not_rendered_and_says_so(capsys):
    chalicelib.Deck("summary", "<p>hi</p>").append("<p/>")
    assert capsys.readouterr().out.splitlines() == [
        "[deck 'summary' not rendered: 9 characters of HTML]",
        "[deck 'summary' not rendered: 4 more characters of HTML]",
    ]


def test_compiled_states_publish_workflow_outputs_and_retry_and_time_out_tasks():
    from chalicelib.compile import compile_workflow

    defs = loader.load_paths([Path(__file__).resolve().parents[2] / "examples" / "flyte_annotations.py"])
    asl = compile_workflow(defs.workflow("annotations_wf"), "arn:runner")
    publish = asl["States"]["Publish"]
    assert publish["Type"] == "Task" and publish["Parameters"]["mode"] == "publish" and publish["Next"] == "Outputs"
    assert publish["Parameters"]["binding"] == {"node": "n4", "output": "o0"}
    assert asl["States"]["Outputs"]["Parameters"]["outputs"] == {"o0.$": "$.published.outputs.o0"}
    assert [n for n, s in asl["States"].items() if s.get("Next") == "Publish"] == ["n4-summarize"]

    @task(retries=3, timeout=120)
    def slow() -> int:
        return 1

    @workflow
    def one() -> int:
        return slow()

    states = compile_workflow(one, "arn:runner")["States"]
    [state] = [s for s in states.values() if s["Type"] == "Task"]
    assert state["Retry"][-1] == {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 3,
                                  "BackoffRate": 2.0}
    assert state["TimeoutSeconds"] == 120 and "Publish" not in states


def test_a_ported_file_using_map_task_loads_and_compiles_to_a_map_state(tmp_path):
    path = tmp_path / "mapped.py"
    path.write_text(textwrap.dedent("""
        from typing import List
        from chalicelib import map_task, task, workflow

        @task
        def sq(x: int) -> int:
            return x * x

        @workflow
        def wf(xs: List[int]) -> List[int]:
            return map_task(sq)(x=xs)
    """))
    from chalicelib.compile import compile_workflow

    asl = compile_workflow(loader.load_paths([path]).workflow("wf"), "arn:aws:lambda:us-east-1:1:function:f")
    assert [s["Type"] for s in asl["States"].values()].count("Map") == 1


# -- ImageSpec ----------------------------------------------------------------------------------------------
FLYTEKIT_IMAGESPEC_KEYWORDS = dict(
    name="full", python_version="3.11", builder="default", source_root=".", env={"A": "1"}, registry="ghcr.io/me",
    packages=["pandas==2.2.3"], conda_packages=["numpy"], conda_channels=["conda-forge"], requirements="reqs.txt",
    apt_packages=["git"], cuda="12.1", cudnn="8", base_image="python:3.11-slim", platform="linux/arm64",
    pip_index="https://example.org/simple", pip_extra_index_url=["https://example.org/extra"],
    pip_secret_mounts=[("a", "b")], pip_extra_args="--no-deps", registry_config="cfg.json", entrypoint=["python"],
    commands=["echo hi"], tag_format="{spec_hash}-x", source_copy_mode=None, copy=["src"], python_exec="/usr/bin/python3",
)


def test_imagespec_accepts_every_flytekit_keyword_and_builder_methods():
    image = ImageSpec(**FLYTEKIT_IMAGESPEC_KEYWORDS)
    more = image.with_packages(["numpy==2.2.6"]).with_apt_packages("curl").with_commands(["ls"]).with_copy("x")
    assert more.packages == ("pandas==2.2.3", "numpy==2.2.6") and more.apt_packages == ("git", "curl")
    assert image.image_name().startswith("ghcr.io/me/full:") and image.image_name().endswith("-x")
    assert image.is_container() and hash(image) == hash(ImageSpec(**FLYTEKIT_IMAGESPEC_KEYWORDS))
    assert ImageSpec.from_env(pinned_packages=["pydantic"]).packages[0].startswith("pydantic==")


def _defs_with(image: ImageSpec) -> loader.Definitions:
    def uses_image() -> int:
        return 1

    uses_image.__qualname__ = "uses_image"
    defined = task(container_image=image)(uses_image)
    return loader.Definitions(tasks={defined.name: defined})


def test_registration_warns_for_packages_the_deployment_does_not_satisfy(tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("pandas==2.2.3\nnumpy==2.2.6  # pinned\n")
    image = ImageSpec(packages=["pandas==2.2.2", "numpy", "torch>=2", "flytekit", "union"])
    warnings = portability.check(_defs_with(image), requirements=reqs)
    assert ("task 'uses_image': ImageSpec package 'pandas==2.2.2' is not satisfied: the deployment's "
            "requirements.txt pins pandas==2.2.3, and the task will run with pandas 2.2.3") in warnings
    assert any("'torch>=2' is not in the deployment's requirements.txt" in w for w in warnings)
    assert not any("numpy" in w or "flytekit" in w or "'union'" in w for w in warnings)


def test_registration_reports_container_only_keywords_once_per_image(tmp_path):
    image = ImageSpec(name="sys", apt_packages=["ffmpeg"], registry="ghcr.io/me", packages=["pandas"])
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("pandas==2.2.3\n")
    [warning] = portability.check(_defs_with(image), requirements=reqs)
    assert warning.startswith("ImageSpec 'sys' (tasks 'uses_image'): registry='ghcr.io/me', apt_packages=('ffmpeg',)")
    assert "cannot apply" in warning and "Lambda layer" in warning


def test_the_deployment_requirements_satisfy_the_seed_except_its_pandas_pin():
    defs = loader.load_paths([Path(__file__).resolve().parents[2] / "chalicelib" / "workflows" / "trigger_on_artifact.py"])
    [warning] = portability.check(defs)
    assert "'pandas==2.2.2'" in warning and "pins pandas==2.2.3" in warning


# -- types --------------------------------------------------------------------------------------------------
@task
def takes_bytes(blob: bytes, n: int) -> int:
    return n


def test_registration_refuses_a_type_the_engine_cannot_carry_naming_task_input_and_type():
    defs = loader.Definitions(tasks={takes_bytes.name: takes_bytes})
    with pytest.raises(types.UnsupportedTypeError, match=r"task 'takes_bytes', input 'blob': type bytes cannot be "
                                                         r"carried between tasks"):
        portability.check(defs)


@pytest.mark.parametrize("hint, carried", [
    (int, True), (Optional[float], True), (List[Dict[str, datetime]], True), (date, True), (timedelta, True),
    (FlyteFile, True), (FlyteFile["csv"], True), (Optional[FlyteDirectory], True), (typing.Any, True),
    (Tuple[int, str], False), (typing.Union[int, str], False), (Dict[int, str], False), (set, False),
    (chalicelib.StructuredDataset, True), (typing.Annotated[chalicelib.StructuredDataset, chalicelib.kwtypes(a=int)], True),
    (List[chalicelib.StructuredDataset], False),
])
def test_which_types_are_carried(hint, carried):
    assert (types.why_unsupported(hint) is None) == carried


def test_values_arrive_as_their_declared_types():
    arrived = literals.decode({"$datetime": "2026-11-24T00:00:00Z"})
    assert types.to_python(arrived, datetime) == datetime(2026, 11, 24, tzinfo=timezone.utc)
    assert types.to_python("2026-11-24T05:00:00+02:00", datetime).tzinfo is timezone.utc
    assert types.to_python(datetime(2026, 11, 24, 23, tzinfo=timezone.utc), date) == date(2026, 11, 24)
    assert types.to_python(3.0, int) == 3 and isinstance(types.to_python(3, float), float)
    assert types.to_python(90, timedelta) == timedelta(seconds=90)
    remote = types.to_python({"$file": {"uri": "s3://b/k/x.csv", "name": "x.csv"}}, FlyteFile)
    assert isinstance(remote, FlyteFile) and remote.remote_source == "s3://b/k/x.csv" and not remote.downloaded


def test_outputs_are_checked_against_their_declared_types():
    import numpy as np

    assert types.to_output(np.int64(4), int, "o") == 4 and type(types.to_output(np.int64(4), int, "o")) is int
    assert isinstance(types.to_output("/tmp/x.csv", FlyteFile, "o"), FlyteFile)
    with pytest.raises(types.OutputTypeError, match="output o is declared int but the task returned str"):
        types.to_output("3", int, "output o")


# -- files, cards, context ----------------------------------------------------------------------------------
def test_file_literals():
    assert literals.encode(FlyteFile("s3://b/p/f.txt")) == {"$file": {"uri": "s3://b/p/f.txt", "name": "f.txt"}}
    assert literals.encode(FlyteDirectory("s3://b/p/")) == {"$dir": {"uri": "s3://b/p/"}}
    with pytest.raises(DefinitionError, match="reserved"):
        literals.encode({"$file": "forged"})
    with pytest.raises(DefinitionError, match="only s3:// URIs and local paths"):
        FlyteFile("gs://bucket/key")


def test_cards_after_the_value_become_the_versions_card():
    value = Sales.create_from([1], ModelCard("# m"), region="emea", time_partition=datetime(2026, 1, 1))
    assert cards.to_record(value.card, "sales") == {"kind": "ModelCard", "text": "# m"}
    with pytest.raises(ArtifactError, match="the positional arguments after the value are cards"):
        cards.to_record((42,), "sales")
    with pytest.raises(ArtifactError, match="card limit is 300,000 bytes"):
        cards.to_record(ModelCard("x" * 300_001), "sales")
    assert cards.to_record(ModelCard("x" * 300_000), "sales")["text"] == "x" * 300_000
    # counted in UTF-8 bytes, as DynamoDB counts them: 150,001 × "é" is 300,002 bytes
    assert cards.to_record(ModelCard("é" * 150_000), "sales")
    with pytest.raises(ArtifactError, match="300,002 bytes of UTF-8 \\(150,001 characters\\)"):
        cards.to_record(ModelCard("é" * 150_001), "sales")


def test_create_from_turns_scalar_partition_values_into_text_as_flytekit_does():
    ByYear = Artifact(name="by_year", partition_keys=["year", "day"])
    value = ByYear.create_from(1, year=2026, day=date(2026, 11, 24))
    assert value.partitions == {"year": "2026", "day": "2026-11-24"}


def test_working_directory_is_per_task_and_removed_afterwards():
    with task_context("exec-1", "n0-t") as ctx:
        assert current_context() is ctx and os.path.isdir(ctx.working_directory)
        Path(ctx.working_directory, "scratch.txt").write_text("x")
        path = ctx.working_directory
    assert not os.path.exists(path)
    assert current_context() is not ctx and os.path.isdir(current_context().working_directory)


def test_secrets_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    assert current_context().secrets.get("db", "password") == "s3cret"
    with pytest.raises(SecretNotFoundError, match="environment variable API_TOKEN"):
        current_context().secrets.get("api", "token")


def test_static_partitions_and_namespace_keywords_of_flytekits_artifact():
    Fixed = Artifact(name="fixed", partitions={"region": "emea"}, project="flytesnacks", domain="development",
                     short_description="a fixed region")
    assert Fixed.partition_keys == ("region",) and Fixed.description == "a fixed region"
    assert Fixed().partitions == {"region": "emea"}  # what Annotated[T, Fixed] binds
    assert Fixed.create_from([1]).partitions == {"region": "emea"}
    assert Fixed(region="apac").partitions == {"region": "apac"}


def test_union_actor_tasks_are_plain_tasks_with_the_environments_keywords():
    actor = chalicelib.ActorEnvironment(name="warm", replica_count=2, ttl_seconds=300,
                                        container_image=ImageSpec(packages=["pandas"]), requests=Resources(mem="1Gi"))

    @actor.task
    def infer(x: int) -> int:
        return 2 * x

    @actor.task(retries=1)
    def infer_retried(x: int) -> int:
        return x

    assert infer(x=4) == 8 and infer.container_image == actor.container_image
    assert infer_retried.options == {"requests": Resources(mem="1Gi"), "retries": 1}
    with pytest.raises(DefinitionError, match="offset"):
        chalicelib.CronSchedule(schedule="0 * * * *", offset="PT1H")
