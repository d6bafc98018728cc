"""Definitions of cached and resource-sized tasks: what is accepted, the sizes chosen, what is refused (and
the message), the cache key's inputs, and the compiled Task state's Resource and cache Parameters."""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import pytest

from chalicelib import Cache, HashMethod, Resources, task, workflow
from chalicelib.compile.asl import compile_workflow
from chalicelib.errors import DefinitionError
from chalicelib.naming import TASK_RUNNER_SIZES, task_runner_functions
from chalicelib.runtime.cache import CacheKeyError, TaskCache, cache_key, literal_hash
from chalicelib.sdk import cache as sdk_cache
from chalicelib.sdk.options import runner_memory
from chalicelib.store.cache import CacheStore, entry_key, reservation_key, task_index_key

ROOT = Path(__file__).resolve().parents[2]
RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:cascade-dev-task_runner"


@pytest.mark.parametrize("options, size", [
    ({}, 1769),
    ({"requests": Resources(mem="1Gi")}, 1769),
    ({"requests": Resources(mem="2Gi")}, 3008),
    ({"requests": Resources(mem="2Gi"), "limits": Resources(mem="4Gi")}, 5120),
    ({"requests": Resources(cpu="500m")}, 1769),
    ({"requests": Resources(cpu=2)}, 5120),  # 2 vCPUs need 3,538 MB
    ({"resources": Resources(mem=("1Gi", "6Gi"))}, 10240),
    ({"limits": Resources(mem="10Gi")}, 10240),
    ({"requests": Resources(mem=2_000_000_000)}, 3008),  # a bare number is bytes, as in flytekit
    ({"requests": Resources(mem="3000M")}, 3008),  # decimal megabytes: 2,861 MiB
])
def test_a_task_runs_in_the_smallest_runner_that_fits(options, size):
    assert runner_memory("t", options) == size


@pytest.mark.parametrize("kwargs, message", [
    ({"requests": Resources(mem="11Gi")}, "task '[^']*bad': requests asks for mem='11Gi' .* at most 10,240 MB"),
    ({"limits": Resources(mem="20000Mi")}, "task '[^']*bad': limits asks for mem='20000Mi'"),
    ({"resources": Resources(mem=("1Gi", "12Gi"))}, "resources asks for mem='12Gi'"),
    ({"requests": Resources(gpu=1)}, "task '[^']*bad': requests asks for gpu=1; Lambda has no GPU"),
    ({"requests": Resources(cpu=8)}, "at most 6 vCPUs"),
    ({"requests": Resources(ephemeral_storage="20Gi")}, "/tmp holds at most 10,240 MB"),
    ({"requests": Resources(mem="lots")}, "'lots' is not a quantity of memory"),
    ({"timeout": timedelta(minutes=16)}, "task '[^']*bad': timeout 960 s is outside what Lambda can run"),
    ({"resources": Resources(mem="1Gi"), "requests": Resources(mem="1Gi")}, "resources= cannot be combined"),
    ({"cache": "yes"}, "cache= takes True, False or Cache"),
    ({"cache_serialize": True}, "cache_serialize= needs cache=True"),
    ({"cache": Cache(version="1"), "cache_version": "2"}, "cannot be combined with cache=Cache"),
    ({"cache": True, "cache_version": 3}, "cache_version= takes a string"),
])
def test_what_no_lambda_can_run_is_refused_at_definition(kwargs, message):
    with pytest.raises(DefinitionError, match=message):
        @task(**kwargs)
        def bad() -> int:
            return 1


def test_resources_values_are_checked_as_flytekit_checks_them():
    with pytest.raises(DefinitionError, match="a pair is \\(request, limit\\)"):
        Resources(mem=("1Gi", "2Gi", "3Gi"))
    with pytest.raises(DefinitionError, match="give a number or a string"):
        Resources(cpu=[1.5, None])
    assert Resources(cpu=("1", "2"), mem="1Gi").split() == (Resources(cpu="1", mem="1Gi"), Resources(cpu="2"))


def test_cache_objects_and_policies():
    class Fixed:
        def get_version(self, salt: str, params: sdk_cache.VersionParameters) -> str:
            return f"{salt}:{params.func.__name__}"

    @task(cache=Cache(salt="s", policies=Fixed(), ignored_inputs="b", serialize=True))
    def policy_task(a: int, b: int) -> int:
        return a

    settings = sdk_cache.settings_for(policy_task)
    assert settings is not None and settings.serialize and settings.ignored == ("b",)
    assert len(settings.version) == 64
    with pytest.raises(DefinitionError, match="Cache\\(policies=...\\) takes CachePolicy objects"):
        Cache(policies=[object()])
    with pytest.raises(DefinitionError, match="Cache\\(version=...\\) takes a non-empty string"):
        Cache(version="")

    @task(cache=True, cache_version="3", cache_serialize=True, cache_ignore_input_vars=("b",))
    def old_style(a: int, b: int) -> int:
        return a

    assert sdk_cache.settings_for(old_style) == sdk_cache.CacheSettings("3", True, ("b",))

    @task(cache=Cache(version="1", ignored_inputs=("nope",)))
    def wrong_ignore(a: int) -> int:
        return a

    with pytest.raises(DefinitionError, match="cache ignores input 'nope', which the task does not have"):
        sdk_cache.settings_for(wrong_ignore)


def test_cache_true_without_a_version_follows_the_function_body():
    @task(cache=True)
    def one(a: int) -> int:
        return a

    @task(cache=True)
    def two(a: int) -> int:
        return a + 1

    v1, v2 = sdk_cache.settings_for(one).version, sdk_cache.settings_for(two).version
    assert v1 != v2 and v1 == sdk_cache.settings_for(one).version


@task(requests=Resources(mem="4Gi"), cache=True, cache_version="1", retries=1)
def sized(x: int) -> int:
    return x


def test_with_overrides_changes_one_node_and_compiles_into_its_task_state():
    @workflow
    def overridden(x: int) -> int:
        a = sized(x=x).with_overrides(requests=Resources(mem="8Gi"), retries=3, timeout=60,
                                      cache=Cache(version="9", serialize=True), name="first")
        return sized(x=a)

    asl = compile_workflow(overridden, RUNNER)
    first, second = asl["States"]["n0-sized"], asl["States"]["n1-sized"]
    assert first["Resource"] == RUNNER + "_10240" and second["Resource"] == RUNNER + "_5120"
    assert first["TimeoutSeconds"] == 60 and "TimeoutSeconds" not in second
    assert first["Retry"][-1]["MaxAttempts"] == 3 and second["Retry"][-1]["MaxAttempts"] == 1
    assert first["Parameters"]["cache"] == {"version": "9", "serialize": True, "ignored": []}
    assert second["Parameters"]["cache"] == {"version": "1", "serialize": False, "ignored": []}


@pytest.mark.parametrize("overrides, message", [
    ({"requests": Resources(mem="20Gi")}, "task 'sized': requests asks for mem='20Gi'"),
    ({"timeout": 3600}, "task 'sized': timeout 3600 s"),
    ({"cache": True}, "with_overrides\\(cache=True\\) needs a version"),
    ({"cache": Cache()}, "with_overrides\\(cache=Cache\\(...\\)\\) needs a version"),
    ({"cache_version": "2"}, "with_overrides\\(cache_version=...\\) is not supported"),
    ({"colour": "red"}, "with_overrides has no keyword colour="),
])
def test_bad_overrides_are_refused_where_the_workflow_is_defined(overrides, message):
    with pytest.raises(DefinitionError, match=message):
        @workflow
        def bad_override(x: int) -> int:
            return sized(x=x).with_overrides(**overrides)


def test_uncached_tasks_compile_as_before():
    @task
    def plain(x: int) -> int:
        return x

    @workflow
    def plain_wf(x: int) -> int:
        return plain(x=x)

    [state] = [s for name, s in compile_workflow(plain_wf, RUNNER)["States"].items() if name.startswith("n0-")]
    assert state["Resource"] == RUNNER and "cache" not in state["Parameters"]


# -- the key ------------------------------------------------------------------------------------------------
def tags(uri: str) -> str:
    return "etag:" + uri.rsplit("/", 1)[-1]


def test_inputs_are_hashed_by_what_they_are_not_where_they_live():
    art = {"$artifact": {"name": "a", "version": "v1", "uri": "s3://b/artifacts/a/v1.json", "format": "json"}}
    moved = {"$artifact": {"name": "a", "version": "v1", "uri": "s3://b/elsewhere.json", "format": "json"}}
    assert literal_hash(art, tags, "x") == literal_hash(moved, tags, "x") == {"artifact": ["a", "v1"]}
    ref = {"$ref": {"uri": "s3://b/runs/e1/n0/o0.parquet", "format": "parquet"}}
    assert literal_hash(ref, tags, "x") == {"ref": ["parquet", "etag:o0.parquet"]}
    assert literal_hash([{"k": 1}, {"$date": "2026-01-01"}], tags, "x") == [{"k": 1}, {"$date": "2026-01-01"}]
    with pytest.raises(CacheKeyError, match="unresolved"):
        literal_hash({"$query": {"artifact": "a"}}, tags, "x")


def rows(df: list) -> str:
    return f"n={len(df)}"


def raises(df: list) -> str:
    raise ValueError("no")


@task(cache=True, cache_version="1")
def hashed(a: Annotated[list, HashMethod(rows)], b: int, c: int = 5) -> int:
    return b


@task(cache=True, cache_version="1")
def hashed_badly(a: Annotated[list, HashMethod(raises)]) -> int:
    return 1


def test_the_key_follows_hash_methods_ignored_inputs_and_defaults():
    cache = TaskCache(CacheStore("unused", None), materialize=lambda literal, hint: literal)
    h1 = cache.hashes(hashed, {"a": [1, 2], "b": 1}, ())
    assert h1 == {"a": {"hash": "n=2"}, "b": 1, "c": {"default": 5}}
    assert cache.hashes(hashed, {"a": [7, 8], "b": 1}, ()) == h1  # HashMethod sees two rows either way
    assert cache.hashes(hashed, {"a": [1], "b": 1}, ("a",)) == {"b": 1, "c": {"default": 5}}
    assert cache_key(hashed, "1", h1) != cache_key(hashed, "2", h1)
    assert cache_key(hashed, "1", h1) != cache_key(hashed_badly, "1", h1)
    assert len(cache_key(hashed, "1", h1)) == 64
    with pytest.raises(CacheKeyError, match="task 'hashed_badly' input 'a': its HashMethod function raised ValueError"):
        cache.hashes(hashed_badly, {"a": [1]}, ())


def test_keys_fit_dynamodb_whatever_the_task_name():
    name = "m." + "x" * 5000
    for key in (entry_key(name, "k" * 64), reservation_key(name, "k" * 64), task_index_key(name)):
        assert len(key["pk"].encode()) <= 2048 and len(key["sk"].encode()) <= 1024
    assert entry_key(name, "k")["pk"] != entry_key(name + "y", "k")["pk"]


# -- deployment ---------------------------------------------------------------------------------------------
def test_every_sized_runner_is_a_chalice_function_with_its_memory():
    tree = ast.parse((ROOT / "app.py").read_text())
    declared = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "lambda_function":
            declared |= {k.value.value for k in node.keywords if k.arg == "name"}
    assert set(task_runner_functions()) <= declared
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["lambda_functions"]
    for name, size in zip(task_runner_functions(), TASK_RUNNER_SIZES):
        assert config[name]["lambda_memory_size"] == size and config[name]["lambda_timeout"] == 900
