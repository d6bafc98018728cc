"""A mapped task (chalicelib.sdk.mapping.MapNode) → Prepare, Map, Collect and Tidy states. Pure.

    Prepare  the task runner resolves the mapped lists (inline or read from S3), checks they have one length,
             and returns the item indexes to `$.map`
    Map      an inline Map over the indexes (MaxConcurrency from `concurrency`); each item runs the task in the
             task runner, which stores the item's result in S3 (chalicelib.store.map_items), so the state does
             not grow with the items (ResultPath null). With `min_success_ratio` < 1 a failed item is caught and
             counted at Collect; without it, the first failed item fails the execution with the task's error.
    Collect  the task runner reads the items' results in order and returns each output as a list (None for a
             failed item), by S3 reference when large; it fails when fewer items succeeded than required
    Tidy     drops `$.map`

ToleratedFailurePercentage is a Distributed-Map field; the inline Map here counts failures at Collect instead.
"""

from __future__ import annotations

from typing import Any

from chalicelib.sdk.mapping import MapNode

ITEM_FAILED = "States.ALL"


def _runner_params(chain: Any, node: MapNode, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "workflow": chain.wf.name,
        "node": node.id,
        "task": {"module": node.task.module, "name": node.task.short_name},
        "bindings": node.inner.bindings,
        "meta.$": "$.meta",
        "inputs.$": "$.inputs",
        "results.$": "$.results",
        "execution_id.$": "$$.Execution.Id",
        "execution_start.$": "$$.Execution.StartTime",
    }


def add_states(chain: Any, name: str, node: MapNode, nxt: str) -> None:
    from chalicelib.compile.task_state import RETRY, state_name, task_state

    states = chain.states
    items, collect, tidy = f"{node.id}-items", f"{node.id}-collect", f"{node.id}-tidy"
    states[name] = {"Type": "Task", "Resource": chain.runner_arn, "Parameters": _runner_params(chain, node, "map_prepare"),
                    "ResultPath": "$.map", "Retry": RETRY, "Next": items}
    item_name = state_name(node.inner)
    item = task_state(node.inner, chain.wf, chain.runner_arn, "$", None)
    item["Parameters"]["map_index.$"] = "$.index"
    processor: dict[str, Any] = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": item_name,
                                 "States": {item_name: item}}
    if node.tolerates_failures():
        item["Catch"] = [{"ErrorEquals": [ITEM_FAILED], "ResultPath": "$.error", "Next": "item-failed"}]
        processor["States"]["item-failed"] = {"Type": "Pass", "Result": {"failed": True}, "End": True}
    states[items] = {
        "Type": "Map",
        "ItemsPath": "$.map.items",
        "ItemSelector": {"index.$": "$$.Map.Item.Value", "meta.$": "$.meta", "inputs.$": "$.inputs",
                         "results.$": "$.results"},
        "ItemProcessor": processor,
        "MaxConcurrency": node.concurrency or 0,
        "ResultPath": None,
        "Next": collect,
    }
    params = _runner_params(chain, node, "map_collect")
    params["count.$"] = "$.map.count"
    params["map"] = {"label": node.label, "outputs": [o.name for o in node.task.outputs],
                     "min_success_ratio": node.min_success_ratio, "min_successes": node.min_successes}
    states[collect] = {"Type": "Task", "Resource": chain.runner_arn, "Parameters": params,
                       "ResultPath": f"$.results.{node.id}", "Retry": RETRY, "Next": tidy}
    states[tidy] = {"Type": "Pass", "Parameters": {"meta.$": "$.meta", "inputs.$": "$.inputs",
                                                   "results.$": "$.results"}, "Next": nxt}
