"""Compile a traced workflow into a Step Functions state machine definition.

Shape of the state (the JSON each state receives):

    {"meta": {...run metadata...}, "inputs": {name: literal}, "results": {node_id: task result}}

Nodes are grouped into levels by dependency depth. A level of one node is a Task state; a level of several
is a Parallel state, whose branch results are merged back into `$.results` by a Pass state with
`States.JsonMerge`, so independent tasks run at the same time. Every Task invokes the task-runner Lambda.

Control nodes (chalicelib.sdk.tracing) run one after another after the tasks of their level, each as the
states its module makes, and store their outputs under `$.results.<node>` as a task does:

  * a conditional → a Choice state (chalicelib.compile.conditions), each case's body as states of its own,
    then a Pass that sets the conditional's outputs; `.fail(...)` → a Fail state (error ConditionalFailed);
  * map_task → Prepare, Map, Collect and Tidy states (chalicelib.compile.mapping);
  * a launch plan called in the body → `startExecution.sync:2` (chalicelib.compile.launching);
  * gate nodes → a Wait state, or a `waitForTaskToken` Task (chalicelib.compile.gates);
  * a @dynamic task → the task runner builds the graph, then `startExecution.sync:2` (chalicelib.compile.dynamic).

Subworkflows have no states of their own: they are traced into the caller's graph. Choice rules and the
other states that read workflow inputs directly see the inputs' defaults, merged in by a Defaults state.

Retry/Catch policy of every Task state:
  * Retry Lambda service faults, throttling and client timeouts (`Lambda.ServiceException`,
    `Lambda.AWSLambdaException`, `Lambda.SdkClientException`, `Lambda.TooManyRequestsException`,
    `Lambda.ClientExecutionTimeoutException`), as AWS advises for Lambda tasks: 6 more attempts, 1 s then x2,
    each wait at most 30 s and drawn at random below that (full jitter), so throttled executions do not retry
    in step.
  * Retry `TransientAwsError`: the task runner raises it when S3, DynamoDB or Step Functions still throttle
    or fail with 5xx after botocore's own 5 attempts: 3 more attempts, 2 s then x2. Re-running a task is
    safe: its output version is a function of (execution, node, output) and both writes are conditional.
  * `@task(retries=N)` also retries the task's own errors (`States.TaskFailed`) N times;
    `@task(timeout=...)` sets the state's TimeoutSeconds.
  * Nothing else is retried, and there is no Catch: a task's own error (and a timeout, `States.Timeout`)
    fails the execution with the task's error type and message, which is the record of the failure.
    A data object written before the failure stays invisible (only the metadata item makes a version) and
    `python -m chalicelib gc` removes it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.compile import conditions, dynamic, gates, launching, mapping
from chalicelib.compile.paths import binding_path, parameters_of
from chalicelib.compile.resolve import resolve_states
from chalicelib.compile.task_state import RETRY, state_name, task_state
from chalicelib.errors import DefinitionError
from chalicelib.sdk import literals, options
from chalicelib.sdk.artifact import ArtifactQuery
from chalicelib.sdk.control import BranchNode
from chalicelib.sdk.dynamic import DynamicTaskDef
from chalicelib.sdk.gates import GateNode
from chalicelib.sdk.launching import LaunchNode
from chalicelib.sdk.tracing import Node
from chalicelib.sdk.workflow import WorkflowDef

def levels(nodes: list[Any]) -> list[list[Any]]:
    """Group nodes by dependency depth; nodes in one level are independent of each other. Nodes outside
    `nodes` (a branch body reading from the graph around it) have already run."""
    depth: dict[str, int] = {}
    for node in nodes:  # tracing order is already topological
        depth[node.id] = 1 + max((depth.get(u, -1) for u in node.upstream), default=-1)
    grouped: dict[int, list[Any]] = {}
    for node in nodes:
        grouped.setdefault(depth[node.id], []).append(node)
    return [grouped[d] for d in sorted(grouped)]


def _publish_states(wf: WorkflowDef, runner_arn: str) -> list[tuple[str, str, dict[str, Any]]]:
    """A workflow-level artifact annotation (`-> Annotated[T, A(...)]`, or one on an output of several) becomes
    one more Task state after the last level: the task runner, in publish mode, stores the workflow's output as
    a version of A. It runs only when every task succeeded; see chalicelib.runtime.publish for why this is the
    place. (state name, output, state) per annotated output, in output order."""
    annotated = [o for o in wf.outputs if o.artifact is not None and o.name in wf.output_bindings]
    out = []
    for i, spec in enumerate(annotated):
        name, path = ("Publish", "$.published") if i == 0 else (f"Publish-{spec.name}", f"$.published_{spec.name}")
        out.append((name, spec.name, {
            "Type": "Task",
            "Resource": runner_arn,
            "Parameters": {
                "mode": "publish",
                "workflow": wf.name,
                "output": spec.name,
                "binding": wf.output_bindings[spec.name],
                "meta.$": "$.meta",
                "inputs.$": "$.inputs",
                "results.$": "$.results",
                "execution_id.$": "$$.Execution.Id",
                "execution_start.$": "$$.Execution.StartTime",
            },
            "ResultPath": path,
            "Retry": RETRY,
        }))
    return out


class Chain:
    """States of one graph (the workflow's, or a branch body's), in one flat States dict."""

    def __init__(self, wf: WorkflowDef, runner_arn: str, states: dict[str, Any]) -> None:
        self.wf, self.runner_arn, self.states = wf, runner_arn, states

    def add(self, nodes: list[Any], next_state: str, top: bool = False) -> str:
        """Add the states that run `nodes` and then go to `next_state`; the name of the first."""
        steps: list[tuple[str, Any]] = []
        for i, group in enumerate(levels(nodes)):
            tasks = [n for n in group if isinstance(n, Node) and not isinstance(n.task, DynamicTaskDef)]
            if len(tasks) > 1:
                steps.append((f"level{i}" if top else f"level-{tasks[0].id}", tasks))
            elif tasks:
                steps.append((state_name(tasks[0]), tasks[0]))
            # control nodes of a level run one after another, after its tasks (they are independent of them)
            in_tasks = {t.id for t in tasks}
            steps += [(control_state_name(n), n) for n in group if n.id not in in_tasks]
        nxt = next_state
        for name, step in reversed(steps):
            self._step(name, step, nxt)
            nxt = name
        return nxt

    def _step(self, name: str, step: Any, nxt: str) -> None:
        states, wf, runner_arn = self.states, self.wf, self.runner_arn
        if isinstance(step, Node) and isinstance(step.task, DynamicTaskDef):
            dynamic.add_states(self, name, step, nxt)
        elif isinstance(step, Node):
            states[name] = task_state(step, wf, runner_arn, f"$.results.{step.id}", nxt)
        elif isinstance(step, list):
            merge = f"{name}-merge"
            states[name] = {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": state_name(node),
                     "States": {state_name(node): task_state(node, wf, runner_arn, "$", None)}}
                    for node in step
                ],
                "ResultSelector": {f"{node.id}.$": f"$[{j}]" for j, node in enumerate(step)},
                "ResultPath": "$.level",
                "Next": merge,
            }
            states[merge] = {
                "Type": "Pass",
                "Parameters": {
                    "meta.$": "$.meta",
                    "inputs.$": "$.inputs",
                    "results.$": "States.JsonMerge($.results, $.level, false)",
                },
                "Next": nxt,
            }
        elif isinstance(step, BranchNode):
            self._branch(name, step, nxt)
        elif isinstance(step, LaunchNode):
            launching.add_states(self, name, step, nxt)
        elif isinstance(step, GateNode):
            gates.add_states(self, name, step, nxt)
        else:
            mapping.add_states(self, name, step, nxt)

    def _branch(self, name: str, node: BranchNode, nxt: str) -> None:
        choices, default = [], nxt
        for k, case in enumerate(node.cases):
            if case.fail is not None:
                first = f"{node.id}-fail{k}"
                self.states[first] = {"Type": "Fail", "Error": BRANCH_FAILED, "Cause": case.fail[:32768]}
            else:
                end = f"{node.id}-case{k}-outputs"
                outputs = dict(zip(node.output_names, case.outputs or []))
                self.states[end] = {"Type": "Pass", "Parameters": {"outputs": parameters_of(outputs)},
                                    "ResultPath": f"$.results.{node.id}", "Next": nxt}
                first = self.add(case.body, end)
            if case.condition is None:
                default = first
            else:
                choices.append({**conditions.rule(case.condition, f"conditional {node.name!r}"), "Next": first})
        self.states[name] = {"Type": "Choice", "Choices": choices, "Default": default}


BRANCH_FAILED = "ConditionalFailed"


def control_state_name(node: Any) -> str:
    if isinstance(node, Node):
        return state_name(node)
    if isinstance(node, BranchNode):
        return f"{node.id}-if-{node.name}"[:80]
    return f"{node.id}-{node.kind}-{node.label}"[:80]


def _has(nodes: list[Any], kind: type) -> bool:
    for node in nodes:
        if isinstance(node, kind):
            return True
        if isinstance(node, BranchNode) and any(_has(c.body, kind) for c in node.cases):
            return True
    return False


def _defaults_states(wf: WorkflowDef, first: str) -> tuple[str, dict[str, Any]]:
    """Workflow inputs' constant defaults merged into `$.inputs`, for the states that read inputs directly
    (Choice rules, a conditional's outputs); tasks read defaults themselves (chalicelib.runtime.binding)."""
    defaults = {i.name: literals.encode(i.default, f"workflow {wf.short_name!r} input {i.name!r}")
                for i in wf.inputs if i.has_default and not isinstance(i.default, ArtifactQuery)}
    if not defaults or not any(_has(wf.graph, kind) for kind in (BranchNode, LaunchNode, GateNode)):
        return first, {}
    return "Defaults", {
        "Defaults": {"Type": "Pass", "Result": defaults, "ResultPath": "$.defaults", "Next": "WithDefaults"},
        "WithDefaults": {"Type": "Pass", "Parameters": {
            "meta.$": "$.meta", "results.$": "$.results",
            "inputs.$": "States.JsonMerge($.defaults, $.inputs, false)"}, "Next": first},
    }


def compile_workflow(wf: WorkflowDef, runner_arn: str) -> dict[str, Any]:
    """The ASL definition of `wf`, whose tasks run in the Lambda function `runner_arn`."""
    states: dict[str, Any] = {}
    publish = _publish_states(wf, runner_arn)
    after_tasks = publish[0][0] if publish else "Outputs"
    chain = Chain(wf, runner_arn, states)
    first = chain.add(wf.graph, after_tasks, top=True)
    first, defaults = _defaults_states(wf, first)
    after_init, resolve = resolve_states(wf, runner_arn, RETRY, first)
    states["Init"] = {"Type": "Pass", "Result": {}, "ResultPath": "$.results", "Next": after_init}
    states.update(resolve)
    states.update(defaults)
    for i, (name, _, state) in enumerate(publish):
        state["Next"] = publish[i + 1][0] if i + 1 < len(publish) else "Outputs"
        states[name] = state
    published = {out: state["ResultPath"] for _, out, state in publish}
    outputs = {}
    for out, binding in wf.output_bindings.items():
        if out in published:
            outputs[f"{out}.$"] = f"{published[out]}.outputs.{out}"
        else:
            outputs.update(parameters_of({out: binding}))
    states["Outputs"] = {"Type": "Pass", "Parameters": {"outputs": outputs, "meta.$": "$.meta"}, "End": True}
    return {
        "Comment": f"workflow {wf.name}",
        "StartAt": "Init",
        "States": states,
    }
