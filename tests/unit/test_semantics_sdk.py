"""Definition-time checks of trigger semantics: every mistake is an error naming the binding and the fix."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Optional

import pytest

from chalicelib import Artifact, Granularity, Inputs, LaunchPlan, OnArtifact, OnArtifacts, task, workflow
from chalicelib.compile.cycles import PlanNode, check_no_cycle
from chalicelib.errors import DefinitionError, PartitionMismatchError, TimePartitionError, TriggerCycleError
from chalicelib.sdk.query import QuerySpec
from chalicelib.store.index import index_items
from chalicelib.store.models import ArtifactVersion, shard_of
from chalicelib.trigger.align import decide_aligned, execution_name, member_queries

Sales = Artifact("u_sales", partition_keys=["region"], time_partitioned=True)
Weather = Artifact("u_weather", time_partitioned=True)
Hourly = Artifact("u_hourly", time_partition_granularity=Granularity.HOUR)


@task
def t(region: str, day: datetime, n: int, ratio: float, df: object, tags: list[str], when: Optional[date] = None) -> None:
    print(region, day, n, ratio, df, tags, when)


@workflow
def wf(region: str, day: datetime, n: int = 1, ratio: float = 1.0, df: object = None, tags: list[str] = [],
       when: Optional[date] = None) -> None:
    t(region=region, day=day, n=n, ratio=ratio, df=df, tags=tags, when=when)


def lp(**inputs):
    base = {"region": Sales.partitions.region, "day": Sales.time_partition}
    return LaunchPlan.create("u_lp", wf, trigger=OnArtifact(trigger_on=Sales, inputs={**base, **inputs}))


def test_valid_bindings_of_every_kind():
    plan = lp(n=3, ratio=2, df=Sales, tags=["a"], when=Sales.time_partition)
    assert plan.bindings == {
        "region": {"trigger_partition": "region"}, "day": {"trigger_time": 0.0}, "n": {"const": 3},
        "ratio": {"const": 2}, "df": {"trigger_artifact": True}, "tags": {"const": ["a"]}, "when": {"trigger_time": 0.0},
    }
    prev = lp(df=Sales.query(region=Sales.partitions.region, time_partition=Sales.time_partition - timedelta(days=1)))
    assert prev.bindings["df"] == {"query": {
        "artifact": "u_sales", "partitions": {"region": {"trigger_partition": "region"}},
        "time_partition": {"trigger_time": -86400.0}, "version": None, "granularity": "DAY"}}


@pytest.mark.parametrize("inputs, message", [
    ({"n": Sales.partitions.region}, "trigger input 'n': binds a partition value (str) to an input annotated int"),
    ({"region": Sales.time_partition}, "trigger input 'region': binds a time partition (datetime) to an input annotated str"),
    ({"n": "three"}, "trigger input 'n': the value 'three' (str) does not fit the input's annotation int"),
    ({"n": True}, "does not fit the input's annotation int"),
    ({"tags": [1, 2]}, "trigger input 'tags': the value [1, 2] (list) does not fit the input's annotation list[str]"),
    ({"region": Sales.partitions.regoin}, "trigger input 'region': artifact 'u_sales' has no partition 'regoin'; its partition keys are ['region']"),
    ({"df": Weather}, "trigger input 'df': refers to artifact 'u_weather', but the trigger is on 'u_sales'"),
    ({"nope": 1}, "trigger input 'nope': workflow 'wf' has no input 'nope'"),
    ({"df": Sales.query(region=Weather.partitions.region)}, "refers to artifact 'u_weather'"),
])
def test_binding_mistakes_name_the_binding(inputs, message):
    with pytest.raises(DefinitionError) as err:
        lp(**inputs)
    assert message in str(err.value) and "launch plan 'u_lp'" in str(err.value)


def test_time_reference_on_an_untimed_artifact_names_the_binding():
    Plain = Artifact("u_plain", partition_keys=["region"])
    with pytest.raises(DefinitionError, match="trigger input 'day': artifact 'u_plain' is not time partitioned"):
        LaunchPlan.create("u_lp", wf, trigger=OnArtifact(trigger_on=Plain, inputs={
            "region": Plain.partitions.region, "day": Plain.time_partition}))


def test_trigger_filters_are_partition_constants():
    with pytest.raises(DefinitionError, match="filters by partitions only"):
        OnArtifact(trigger_on=Sales.query(time_partition=datetime(2026, 1, 1)))
    with pytest.raises(PartitionMismatchError):
        OnArtifact(trigger_on=Sales.query(regoin="emea"))
    assert OnArtifact(trigger_on=Sales.query(region="emea")).partition_filter() == {"region": "emea"}


def test_query_values_are_checked():
    with pytest.raises(TimePartitionError):
        Artifact("u_untimed").query(time_partition=datetime(2026, 1, 1))
    with pytest.raises(DefinitionError, match="must be a string"):
        Sales.query(region=3)


def test_fixed_and_default_inputs_are_type_checked():
    with pytest.raises(DefinitionError, match=r"fixed_inputs\['n'\]: the value 'x' does not fit"):
        LaunchPlan.create("u_lp", wf, fixed_inputs={"n": "x"})


def test_partition_key_count_is_bounded():
    with pytest.raises(DefinitionError, match="at most 5 are supported"):
        Artifact("u_wide", partition_keys=list("abcdef"))


def test_on_artifacts_validation():
    with pytest.raises(DefinitionError, match="at least two"):
        OnArtifacts(all_of=[Sales])
    with pytest.raises(DefinitionError, match="'u_plain2' is not time partitioned"):
        OnArtifacts(all_of=[Sales, Artifact("u_plain2")])
    with pytest.raises(DefinitionError, match="one granularity for all members; got u_sales: DAY, u_hourly: HOUR"):
        OnArtifacts(all_of=[Sales, Hourly])
    with pytest.raises(DefinitionError, match="artifact 'u_weather' has no partition 'region'"):
        OnArtifacts(all_of=[Sales, Weather], align_on="region")
    with pytest.raises(DefinitionError, match="lists artifact 'u_sales' twice"):
        OnArtifacts(all_of=[Sales, Sales.query(region="x")])


def _version(name, version, partitions=None, tp=datetime(2026, 11, 24, tzinfo=timezone.utc)):
    return ArtifactVersion(name=name, version=version, partitions=partitions or {}, time_partition=tp,
                           uri=f"s3://b/{name}/{version}", format="json")


def test_aligned_decision_is_deterministic_from_the_set():
    trigger = OnArtifacts(all_of=[Sales.query(region="emea"), Weather],
                          inputs={"df": Sales, "day": Weather.time_partition, "region": Sales.partitions.region})
    plan = LaunchPlan.create("u_aligned", wf, trigger=trigger)
    from chalicelib.store.plans import subscriptions_of

    sub_sales, sub_weather = subscriptions_of(plan, "arn:aws:states:us-east-1:1:stateMachine:x", True)
    s1, w1 = _version("u_sales", "v1", {"region": "emea"}), _version("u_weather", "w1")
    assert member_queries(sub_sales, _version("u_sales", "v9", {"region": "us"})) is None, "outside the filter"
    queries = member_queries(sub_sales, s1)
    assert queries == {"u_sales": ({"region": "emea"}, s1.time_partition), "u_weather": ({}, s1.time_partition)}
    by_sales = decide_aligned(s1, sub_sales, {"u_sales": s1, "u_weather": w1})
    by_weather = decide_aligned(w1, sub_weather, {"u_sales": s1, "u_weather": w1})
    assert by_sales.name == by_weather.name == execution_name("u_aligned", plan.version, {"u_sales": s1, "u_weather": w1})
    assert by_sales.input["inputs"] == {"df": s1.reference(), "day": {"$datetime": "2026-11-24T00:00:00Z"}, "region": "emea"}
    assert decide_aligned(s1, sub_sales, {"u_sales": s1, "u_weather": None}) is None
    s2 = _version("u_sales", "v2", {"region": "emea"})
    assert decide_aligned(s2, sub_sales, {"u_sales": s2, "u_weather": w1}).name != by_sales.name


def test_index_items_cover_every_partial_query():
    v = _version("u_sales", "v1", {"region": "emea"})
    shard = shard_of(v.version)
    assert shard != 0  # "v1" lands on a suffixed shard: the suffix is checked below
    assert sorted(i["pk"] for i in index_items(v)) == sorted(f"{pk}#{shard}" for pk in [
        "Q#u_sales||", "Q#u_sales||2026-11-24T00:00:00Z", "Q#u_sales|region=emea|",
        "Q#u_sales|region=emea|2026-11-24T00:00:00Z"])
    assert all(not k.startswith("gsi") for i in index_items(v) for k in i)
    assert not any(k.startswith("gsi") for k in v.to_item())


def test_query_time_is_normalized_to_the_granularity():
    spec = QuerySpec.from_literal({"artifact": "m", "time_partition": {"$datetime": "2026-10-31T00:00:00Z"},
                                   "granularity": "MONTH"})
    assert spec.time_partition == datetime(2026, 10, 1, tzinfo=timezone.utc)
    assert spec.describe() == "m[time_partition=2026-10-01T00:00:00Z]"


def test_cycle_check_is_pure_and_respects_filters():
    a = PlanNode("p", "wf_p", {"raw": {"stage": "in"}}, {"raw": {"stage": "out"}})
    check_no_cycle([a], ["p"])  # produces stage=out, listens to stage=in: no cycle
    b = PlanNode("q", "wf_q", {"raw": {}}, {"raw": {"stage": "in"}})
    with pytest.raises(TriggerCycleError, match="artifact 'raw' → launch plan 'q' \\(workflow wf_q\\) → artifact 'raw'"):
        check_no_cycle([a, b], ["q"])


def test_fan_in_binds_a_list_of_results_and_depends_on_each():
    @task
    def part(i: int) -> int:
        return i

    @task
    def gather(parts: list[int]) -> int:
        return sum(parts)

    @workflow
    def fan() -> int:
        return gather(parts=[part(i=i) for i in range(3)] + [10])

    gather_node = fan.nodes[-1]
    assert gather_node.bindings == {"parts": {"list": [
        {"node": "n0", "output": "o0"}, {"node": "n1", "output": "o0"}, {"node": "n2", "output": "o0"}, {"const": 10}]}}
    assert gather_node.upstream == ["n0", "n1", "n2"]
    from chalicelib.compile.asl import levels

    assert [[n.id for n in level] for level in levels(fan.nodes)] == [["n0", "n1", "n2"], ["n3"]]


def test_the_trigger_path_stays_light():
    import subprocess
    import sys

    code = "import app, chalicelib.trigger.handler, sys; sys.exit(1 if 'pandas' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_resolve_states_only_where_needed():
    from chalicelib.compile.asl import compile_workflow

    @task
    def use(value: int) -> int:
        return value

    @workflow
    def no_inputs() -> int:
        return use(value=1)

    @workflow
    def plain(value: int) -> int:
        return use(value=value)

    @workflow
    def queried(value: int = Artifact("u_counts").query()) -> int:
        return use(value=value)

    arn = "arn:aws:lambda:us-east-1:1:function:runner"
    assert compile_workflow(no_inputs, arn)["States"]["Init"]["Next"].startswith("n0-")
    plain_states = compile_workflow(plain, arn)["States"]
    assert plain_states["Init"]["Next"] == "NeedsResolve"
    assert plain_states["NeedsResolve"]["Choices"] == [{"Variable": "$.meta.resolve", "IsPresent": True, "Next": "Resolve"}]
    queried_states = compile_workflow(queried, arn)["States"]
    assert queried_states["Init"]["Next"] == "Resolve" and "NeedsResolve" not in queried_states
    assert queried_states["Resolve"]["Parameters"]["resolve"]["defaults"] == {"value": {"$query": {
        "artifact": "u_counts", "partitions": {}, "time_partition": None, "version": None, "granularity": None}}}
