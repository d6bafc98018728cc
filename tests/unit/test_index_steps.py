"""A deploy that drops or adds several indexes of one table goes through one index per update."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from chalicelib.deploy.build import load_infra
from chalicelib.deploy.index_steps import intermediate_templates

ROOT = Path(__file__).resolve().parents[2]


def _index(name: str) -> dict[str, Any]:
    return {"IndexName": name, "KeySchema": [{"AttributeName": f"{name}pk", "KeyType": "HASH"},
                                             {"AttributeName": f"{name}sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}


def _with(template: dict[str, Any], table: str, names: list[str]) -> dict[str, Any]:
    """The template with these indexes on the table, and their attributes defined."""
    out = copy.deepcopy(template)
    props = out["Resources"][table]["Properties"]
    props["GlobalSecondaryIndexes"] = [_index(n) for n in names]
    props["AttributeDefinitions"] += [{"AttributeName": f"{n}{k}", "AttributeType": "S"} for n in names
                                      for k in ("pk", "sk")]
    return out


def _indexes(template: dict[str, Any], table: str) -> list[str]:
    props = template["Resources"][table]["Properties"]
    names = [i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])]
    keys = {k["AttributeName"] for k in props["KeySchema"]}
    keys |= {k["AttributeName"] for i in props.get("GlobalSecondaryIndexes", []) for k in i["KeySchema"]}
    assert {d["AttributeName"] for d in props["AttributeDefinitions"]} == keys  # DynamoDB wants exactly these
    return names


def test_a_stage_with_the_two_old_indexes_drops_them_one_update_at_a_time():
    new = load_infra(ROOT)
    assert "GlobalSecondaryIndexes" not in new["Resources"]["ArtifactsTable"]["Properties"]
    old = _with(new, "ArtifactsTable", ["gsi1", "gsi2"])  # what stages deployed before the write shards have
    (step,) = intermediate_templates(old, new)
    assert _indexes(step, "ArtifactsTable") == ["gsi2"]
    assert {k: v for k, v in step["Resources"].items() if k != "ArtifactsTable"} == {
        k: v for k, v in new["Resources"].items() if k != "ArtifactsTable"}  # the rest is the new template's


def test_one_change_per_table_needs_no_step_and_every_step_changes_one_index_per_table():
    new = load_infra(ROOT)
    assert intermediate_templates({}, new) == []  # nothing deployed yet
    assert intermediate_templates(_with(new, "ArtifactsTable", ["gsi1"]), new) == []
    tables = [k for k, v in new["Resources"].items() if v["Type"] == "AWS::DynamoDB::Table"]
    first, second = tables[:2]
    old = _with(_with(new, first, ["a", "b", "c"]), second, ["x"])
    target = _with(_with(new, first, ["d"]), second, ["y", "x2"])
    steps = intermediate_templates(old, target)
    chain = [old, *steps, target]
    assert len(steps) == 3  # first: drop a, b, c, add d (4 changes)
    for before, after in zip(chain, chain[1:]):
        for table in (first, second):
            was, now = set(_indexes(before, table)), set(_indexes(after, table))
            assert len(was ^ now) <= 1, (table, was, now)


def test_an_index_whose_definition_changed_is_dropped_then_added():
    new = load_infra(ROOT)
    old = _with(new, "ArtifactsTable", ["gsi1"])
    target = copy.deepcopy(old)
    target["Resources"]["ArtifactsTable"]["Properties"]["GlobalSecondaryIndexes"][0]["Projection"] = {
        "ProjectionType": "KEYS_ONLY"}
    (step,) = intermediate_templates(old, target)
    assert _indexes(step, "ArtifactsTable") == []
