"""A stack update that adds or removes several global secondary indexes of one table, in steps.

CloudFormation (like DynamoDB's UpdateTable) creates or deletes one global secondary index of a table per
stack update; an update asking for more fails and rolls back. So when the new template changes more than one
index of a table against the deployed one, the deploy first applies templates that change one index per table
each (deletions first, then additions), then the new template itself. Everything but the tables' index lists
and attribute definitions is the new template's in every step. (pure: no AWS call)
"""

from __future__ import annotations

import copy
import json
from typing import Any

TABLE = "AWS::DynamoDB::Table"


def _indexes(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    props = resource.get("Properties") or {}
    return {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes") or [] if isinstance(i, dict)}


def _ops(deployed: dict[str, Any], target: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One table's index changes as ("drop", name, None) / ("add", name, index), deletions first.
    An index whose definition changed is dropped, then added again."""
    old, new = _indexes(deployed), _indexes(target)
    changed = [n for n in old if n in new and json.dumps(old[n], sort_keys=True) != json.dumps(new[n], sort_keys=True)]
    drops = [n for n in old if n not in new] + changed
    adds = [n for n in new if n not in old] + changed
    return [("drop", n, None) for n in drops] + [("add", n, new[n]) for n in adds]


def _with_indexes(target: dict[str, Any], deployed: dict[str, Any], indexes: list[dict[str, Any]]) -> dict[str, Any]:
    """The target table with these indexes, and attribute definitions for exactly the keys in use."""
    table = copy.deepcopy(target)
    props = table.setdefault("Properties", {})
    if indexes:
        props["GlobalSecondaryIndexes"] = indexes
    else:
        props.pop("GlobalSecondaryIndexes", None)
    known = {d["AttributeName"]: d for d in (deployed.get("Properties") or {}).get("AttributeDefinitions") or []}
    known.update({d["AttributeName"]: d for d in props.get("AttributeDefinitions") or []})
    used = [k["AttributeName"] for k in props.get("KeySchema") or []]
    used += [k["AttributeName"] for i in indexes for k in i.get("KeySchema") or []]
    props["AttributeDefinitions"] = [known[a] for a in dict.fromkeys(used) if a in known]
    return table


def intermediate_templates(deployed: dict[str, Any], target: dict[str, Any]) -> list[dict[str, Any]]:
    """The templates to apply before `target`, so that no update changes more than one index of a table
    ([] when every table changes at most one index, or nothing is deployed yet)."""
    old_res, new_res = deployed.get("Resources") or {}, target.get("Resources") or {}
    plans: dict[str, list[tuple[str, str, dict[str, Any] | None]]] = {}
    for name, resource in new_res.items():
        if resource.get("Type") == TABLE and old_res.get(name, {}).get("Type") == TABLE:
            ops = _ops(old_res[name], resource)
            if len(ops) > 1:
                plans[name] = ops
    if not plans:
        return []
    steps = []
    for step in range(1, max(len(ops) for ops in plans.values())):  # the last operation is the target itself
        template = copy.deepcopy(target)
        for name, ops in plans.items():
            current = dict(_indexes(old_res[name]))
            for kind, index_name, index in ops[:step]:
                if kind == "drop":
                    current.pop(index_name, None)
                else:
                    current[index_name] = index  # type: ignore[assignment]
            template["Resources"][name] = _with_indexes(new_res[name], old_res[name], list(current.values()))
        steps.append(template)
    return steps
