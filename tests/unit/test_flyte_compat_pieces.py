"""flytekit pieces at definition and in the task's hands: chained artifact bindings, workflow outputs that
leave a partition unbound, queries bound to inputs, StructuredDataset column subsets, Echo, launch plans,
package-relative imports and the names a published file imports."""

# No `from __future__ import annotations`: workflows defined inside tests annotate with local names, which
# string annotations could not resolve.
import os
import textwrap
from datetime import datetime, timezone

import pandas as pd
import pytest
from typing_extensions import Annotated

import chalicelib
from chalicelib import Artifact, Inputs, LaunchPlan, StructuredDataset, current_context, kwtypes, task, workflow
from chalicelib.errors import ArtifactError, DefinitionError, TaskFailedError
from chalicelib.runtime import loader
from chalicelib.sdk import carry, query

Sales = Artifact(name="pieces_sales", partition_keys=["region", "channel"], time_partitioned=True)


@task
def count(region: str, day: datetime) -> int:
    return 1


# -- 3. chained partial bindings; workflow outputs bind every partition --------------------------------------
def test_bindings_chain_and_a_later_binding_replaces_an_earlier_one():
    spec = Sales(region=Inputs.region)(channel="web")(time_partition=Inputs.day)
    assert dict(spec.partitions) == {"region": Inputs.region, "channel": "web"}
    assert spec.time_partition == Inputs.day and spec.unbound() == []
    assert dict(Sales(channel="web")(channel="shop").partitions) == {"channel": "shop"}
    assert Sales(region=Inputs.region).unbound() == ["channel", "time_partition"]
    with pytest.raises(ArtifactError, match="partition keys"):
        Sales(region=Inputs.region)(regoin="x")
    with pytest.raises(DefinitionError, match="by keyword"):
        Sales(region=Inputs.region)("x")


def test_a_task_output_may_leave_partitions_for_create_from():
    @task
    def t(region: str) -> Annotated[int, Sales(region=Inputs.region)]:
        return Sales.create_from(1, channel="web", time_partition=datetime(2026, 11, 24))

    assert t.outputs[0].artifact.unbound() == ["channel", "time_partition"]


@pytest.mark.parametrize("annotation, missing", [
    (Sales(region=Inputs.region)(time_partition=Inputs.day), "channel"),
    (Sales(region=Inputs.region, channel="web"), "time_partition"),
])
def test_a_workflow_output_leaving_a_partition_unbound_is_refused_naming_it(annotation, missing):
    with pytest.raises(DefinitionError, match=rf"workflow '[^']*wf'.*'pieces_sales' leaves partition '{missing}' unbound"):
        @workflow
        def wf(region: str, day: datetime) -> Annotated[int, annotation]:
            return count(region=region, day=day)


def test_a_workflow_output_inherits_what_the_task_version_it_is_has():
    @task
    def made(region: str) -> Annotated[int, Sales(region=Inputs.region)]:
        return Sales.create_from(1, channel="web", time_partition=datetime(2026, 11, 24))

    @workflow
    def wf(region: str) -> Annotated[int, Sales(region=Inputs.region)]:
        return made(region=region)

    assert wf.outputs[0].artifact.unbound() == ["channel", "time_partition"]


# -- 2. queries bound to workflow inputs ---------------------------------------------------------------------
def test_a_query_default_reads_other_inputs_and_the_literal_names_them():
    @workflow
    def wf(region: str, day: datetime = datetime(2026, 11, 24, tzinfo=timezone.utc),
           data: int = Sales.query(time_partition=Inputs.day, region=Inputs.region)) -> int:
        return count(region=region, day=day)

    from chalicelib.compile.resolve import query_defaults

    defaults = query_defaults(wf)
    body = defaults["data"]["$query"]
    assert body["partitions"] == {"region": {"$input": "region"}} and body["time_partition"] == {"$input": "day"}
    assert defaults["day"] == {"$datetime": "2026-11-24T00:00:00Z"}  # the plain default the query reads
    assert "region" not in defaults
    bound = query.bind_inputs(body, {"region": "emea", "day": {"$datetime": "2026-11-24T13:00:00Z"}})
    spec = query.QuerySpec.from_literal(bound)
    assert spec.partitions == {"region": "emea"} and spec.time_partition == datetime(2026, 11, 24, tzinfo=timezone.utc)
    with pytest.raises(ArtifactError, match="reads workflow input 'region'.*pass --region"):
        query.bind_inputs(body, {"day": {"$datetime": "2026-11-24T13:00:00Z"}})
    with pytest.raises(ArtifactError, match="not filled"):
        query.QuerySpec.from_literal(body)


@pytest.mark.parametrize("default, message", [
    (lambda: Sales.query(region=Inputs.nope), "has no input 'nope'"),
    (lambda: Sales.query(region=Inputs.data), "itself a query"),
])
def test_a_query_default_reading_a_missing_input_or_another_query_is_refused(default, message):
    with pytest.raises(DefinitionError, match=message):
        @workflow
        def wf(region: str, day: datetime, data: int = default()) -> int:
            return count(region=region, day=day)


# -- 1. StructuredDataset ------------------------------------------------------------------------------------
FRAME = pd.DataFrame({"Name": ["Tom", "Jo"], "Age": [19, 22], "Height": [160, 178]})


def test_a_structured_dataset_input_reads_the_columns_its_annotation_names():
    sd = carry.to_python(FRAME, Annotated[StructuredDataset, kwtypes(Age=int)])
    assert isinstance(sd, StructuredDataset)
    assert list(sd.open(pd.DataFrame).all().columns) == ["Age"]
    assert list(carry.to_python(FRAME, StructuredDataset).open(pd.DataFrame).all().columns) == ["Name", "Age", "Height"]
    # a DataFrame input annotated with columns gets the subset too, as in flytekit
    assert list(carry.to_python(FRAME, Annotated[pd.DataFrame, kwtypes(Name=str)]).columns) == ["Name"]


def test_reading_a_column_the_table_lacks_names_it():
    sd = carry.to_python(FRAME, Annotated[StructuredDataset, kwtypes(Weight=float)])
    with pytest.raises(TaskFailedError, match=r"no column 'Weight'; its columns are \['Name', 'Age', 'Height'\]"):
        sd.open(pd.DataFrame).all()


def test_a_structured_dataset_output_is_stored_as_its_dataframe():
    assert carry.to_output(StructuredDataset(dataframe=FRAME), StructuredDataset, "o") is FRAME
    assert carry.to_output(FRAME, Annotated[StructuredDataset, kwtypes(Age=int)], "o") is FRAME
    with pytest.raises(TaskFailedError, match="declared StructuredDataset but the task returned dict"):
        carry.to_output({"a": 1}, StructuredDataset, "o")
    with pytest.raises(TaskFailedError, match="neither a dataframe nor a uri"):
        carry.to_output(StructuredDataset(), StructuredDataset, "o")


def test_a_structured_dataset_from_a_uri_reads_a_parquet_file_or_folder(tmp_path):
    FRAME.to_parquet(tmp_path / "one.parquet", engine="fastparquet")
    folder = tmp_path / "parts"
    folder.mkdir()
    FRAME.to_parquet(folder / "00000", engine="fastparquet")
    FRAME.to_parquet(folder / "00001", engine="fastparquet")
    one = StructuredDataset(uri=str(tmp_path / "one.parquet")).open(pd.DataFrame).all()
    assert one.equals(FRAME)
    assert len(StructuredDataset(uri=str(folder)).open(pd.DataFrame).all()) == 4
    stored = carry.to_output(StructuredDataset(uri=str(tmp_path / "one.parquet")), StructuredDataset, "o")
    assert stored.equals(FRAME)
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(TaskFailedError, match="cannot be read as parquet"):
        StructuredDataset(uri=str(tmp_path / "bad.parquet")).open(pd.DataFrame).all()


def test_open_needs_a_pandas_dataframe_and_a_call_first():
    sd = StructuredDataset(dataframe=FRAME)
    with pytest.raises(DefinitionError, match="open"):
        sd.all()
    with pytest.raises(DefinitionError, match="pandas.DataFrame"):
        sd.open(dict)
    assert kwtypes(a=int, b=str) == {"a": int, "b": str} and list(kwtypes(b=str, a=int)) == ["b", "a"]


# -- 4. launch plans -----------------------------------------------------------------------------------------
@task
def add(x: int, y: int) -> int:
    return x + y


@workflow
def add_wf(x: int, y: int = 2) -> int:
    return add(x=x, y=y)


def test_default_launch_plan_is_named_after_the_workflow_and_runs_locally():
    lp = LaunchPlan.get_default_launch_plan(current_context(), add_wf)
    assert lp.name == "add_wf" and lp.workflow is add_wf and lp.trigger is None
    assert LaunchPlan.get_or_create(add_wf).name == "add_wf"
    assert lp(x=1) == 3
    fixed = LaunchPlan.get_or_create(add_wf, name="fixed_x", fixed_inputs={"x": 10})
    assert fixed(y=1) == 11
    with pytest.raises(DefinitionError, match="'x' is fixed"):
        fixed(x=1)


# -- 6. names a published file imports -----------------------------------------------------------------------
def test_echo_returns_its_input_through_a_workflow_and_is_found_by_name():
    import sys
    import types

    module = types.ModuleType("echo_flow")
    sys.modules["echo_flow"] = module
    exec(textwrap.dedent('''
        from chalicelib import Echo, workflow
        my_echo = Echo(name="echo", inputs={"a": int})

        @workflow
        def wf(a: int) -> int:
            return my_echo(a=a)
    '''), module.__dict__)
    assert module.echo is module.my_echo  # the task runner looks a task up by module and name
    assert module.my_echo.fn(a=4) == 4 and module.my_echo(a=5) == 5
    assert [n.task.short_name for n in module.wf.nodes] == ["echo"]
    with pytest.raises(DefinitionError, match="several outputs"):
        chalicelib.Echo(name="two", inputs={"a": int, "b": str})


def test_the_names_a_published_file_imports_exist_and_behave():
    from chalicelib import (FlyteContextManager, MarkdownRenderer, PodTemplate, Secret, SecretsManager,
                            TopFrameRenderer)

    assert Secret(group="g", key="k", mount_requirement=Secret.MountType.ENV_VAR).mount_requirement.name == "ENV_VAR"
    assert isinstance(current_context().secrets, SecretsManager)
    assert "&lt;b&gt;" in MarkdownRenderer().to_html("<b>")
    assert TopFrameRenderer(max_rows=1).to_html(FRAME).count("<tr") == 2  # header and one row
    ctx = FlyteContextManager.current_context()
    assert ctx.user_space_params is current_context()
    assert ctx.file_access.get_random_local_directory().startswith(current_context().working_directory)
    PodTemplate(primary_container_name="main", labels={"a": "b"})
    chalicelib.ImageSpec(builder="union", packages=["pandas"], registry="ghcr.io/x")


def test_a_file_mounted_secret_is_a_private_file(monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    path = current_context().secrets.get_secrets_file("db", "password")
    assert open(path).read() == "s3cret" and oct(os.stat(path).st_mode & 0o777) == "0o600"


# -- 5. package-relative imports -----------------------------------------------------------------------------
def test_a_file_in_a_package_loads_as_the_packages_module_with_its_relative_imports(tmp_path):
    pkg = tmp_path / "proj_pieces" / "flows"
    pkg.mkdir(parents=True)
    (tmp_path / "proj_pieces" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text("from chalicelib import task\n\n@task\ndef one() -> int:\n    return 1\n")
    (pkg / "wf.py").write_text(textwrap.dedent('''
        from chalicelib import workflow
        from . import tasks
        from .tasks import one

        @workflow
        def pkg_wf() -> int:
            return tasks.one()
    '''))
    defs = loader.load_paths([pkg / "wf.py"])
    wf = defs.workflow("pkg_wf")
    assert wf.module == "proj_pieces.flows.wf" and defs.files == {"proj_pieces.flows.wf": (pkg / "wf.py").resolve()}
    assert wf.nodes[0].task.module == "proj_pieces.flows.tasks"
    assert loader.module_name((pkg / "wf.py").resolve()) == ("proj_pieces.flows.wf", tmp_path.resolve())
    # a file outside any package keeps its stem as its name
    (tmp_path / "plain_pieces.py").write_text("X = 1\n")
    assert loader.module_name((tmp_path / "plain_pieces.py").resolve()) == ("plain_pieces", tmp_path.resolve())


def test_inputs_in_a_trigger_query_is_refused_instead_of_passing_as_a_dict():
    from chalicelib import OnArtifact

    other = Artifact(name="pieces_other", partition_keys=["k"])

    @workflow
    def wf(region: str, day: datetime) -> int:
        return count(region=region, day=day)

    with pytest.raises(DefinitionError, match=r"trigger input 'region': Inputs.k means a workflow input only"):
        LaunchPlan.create("pieces_lp", wf, trigger=OnArtifact(trigger_on=Sales, inputs={
            "region": other.query(k=Inputs.k), "day": Sales.time_partition}))


def test_an_artifact_as_a_default_is_its_latest_version_only_when_nothing_is_left_to_choose():
    plain = Artifact(name="pieces_plain")
    fixed = Artifact(name="pieces_fixed", partitions={"region": "emea"})

    @workflow
    def wf(region: str, day: datetime, a: int = plain, b: int = fixed) -> int:
        return count(region=region, day=day)

    defaults = {i.name: i.default for i in wf.inputs if i.has_default}
    assert defaults["a"].artifact is plain and dict(defaults["a"].partitions) == {}
    assert dict(defaults["b"].partitions) == {"region": "emea"}
    with pytest.raises(DefinitionError, match=r"input 'c': the default 'pieces_sales' .* partition 'region' is not fixed"):
        @workflow
        def bad(region: str, day: datetime, c: int = Sales) -> int:
            return count(region=region, day=day)


def test_imagespec_builder_arguments_are_accepted_and_reported_as_container_only():
    image = (chalicelib.ImageSpec(builder="union", packages=["pandas"], builder_config={"k": 1})
             .with_runtime_packages(["numpy"]).with_builder_options({"cache": True}))
    reported = image.container_only()
    assert reported["builder"] == "union" and reported["runtime_packages"] == ["numpy"]
    assert reported["builder_options"] == {"cache": True} and reported["builder_config"] == {"k": 1}
    assert image.packages == ("pandas",)


def test_plugin_deck_renderers_make_html_without_their_plugins():
    from chalicelib import BoxRenderer, FrameProfilingRenderer, ImageRenderer

    assert "Age" in FrameProfilingRenderer().to_html(FRAME) and "mean" in FrameProfilingRenderer().to_html(FRAME)
    assert "75%" in BoxRenderer("Age").to_html(FRAME) and "Height" not in BoxRenderer("Age").to_html(FRAME)
    assert ImageRenderer().to_html(b"\x89PNG").startswith('<img src="data:image/png;base64,iVBORw')


def test_query_accepts_project_and_domain_as_flytekit():
    assert dict(Sales.query(project="p", domain="development", region="emea").partitions) == {"region": "emea"}
    keyed = Artifact(name="pieces_keyed", partition_keys=["domain"])
    assert dict(keyed.query(domain="sales").partitions) == {"domain": "sales"}


def test_flytekit_value_objects_for_keywords_with_no_effect_are_importable():
    from chalicelib import (ConcurrencyLimitBehavior, ConcurrencyPolicy, Description, Documentation, HashMethod,
                            SourceCode, WorkflowFailurePolicy)

    @task(docs=Documentation(short_description="s", long_description=Description(value="v"),
                             source_code=SourceCode(link="l")))
    def hashed(x: int) -> Annotated[int, HashMethod(str)]:
        return x

    @workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    def policy_wf(x: int) -> int:
        return hashed(x=x)

    lp = LaunchPlan.get_or_create(policy_wf, name="pieces_concurrency",
                                  concurrency=ConcurrencyPolicy(max_concurrency=1, behavior=ConcurrencyLimitBehavior.SKIP))
    assert lp.options["concurrency"].max_concurrency == 1 and HashMethod(str).calculate(3) == "3"
    assert hashed.outputs[0].type is int


def test_a_query_reading_a_non_time_input_as_its_time_partition_is_refused():
    with pytest.raises(DefinitionError, match=r"reads Inputs.n as its time partition, but that input is annotated int"):
        @workflow
        def wf(region: str, day: datetime, n: int = 1, data: int = Sales.query(time_partition=Inputs.n)) -> int:
            return count(region=region, day=day)
