"""`map_task`: flytekit's array node, traced into a `MapNode` the compiler turns into a Map state.

    map_task(t, concurrency=4, min_success_ratio=0.9)(xs=numbers, scale=2)
    map_task(functools.partial(t, scale=2))(xs=numbers)

As in flytekit, every input of `t` that is not fixed (by `functools.partial`, or by flytekit's `bound_inputs`)
is mapped over: it must be a list, and all mapped lists must have the same length. Each output becomes a list
with one element per item; with `min_success_ratio` below 1 (or `min_successes`), failed items give None, and
the node fails when fewer items than that succeed. An item's artifact output is a version of its own.
"""

from __future__ import annotations

import functools
import math
import typing
from typing import Any, List, Optional

from msgspec import Struct, field

from chalicelib.errors import DefinitionError
from chalicelib.sdk import tracing
from chalicelib.sdk.task import OutputDef, TaskDef


class MapNode(Struct):
    id: str
    inner: tracing.Node  # the task and its bindings; mapped inputs are bound as {"map": binding}
    mapped: list[str]
    concurrency: int | None
    min_success_ratio: float
    min_successes: int | None
    upstream: list[str] = field(default_factory=list)
    kind: str = "map"

    @property
    def label(self) -> str:
        return self.inner.task.short_name

    @property
    def task(self) -> TaskDef:
        return self.inner.task  # type: ignore[return-value]

    def refs(self) -> set[str]:
        return set(self.upstream)

    def tolerates_failures(self) -> bool:
        return self.min_success_ratio < 1 or self.min_successes is not None

    def required(self, count: int) -> int:
        """How many of `count` items must succeed (flytekit: min_successes, else ceil(count × ratio))."""
        if self.min_successes is not None:
            return min(self.min_successes, count)
        return math.ceil(count * self.min_success_ratio)


def _is_list_type(hint: Any) -> bool | None:
    """True for a list type, False for another declared type, None when undeclared."""
    if hint is Any or hint is None:
        return None
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _is_list_type(typing.get_args(hint)[0])
    return hint is list or origin in (list, typing.List)


class MapTaskDef:
    """A mapped task. Called in a workflow body it adds a map node; called elsewhere it runs item by item."""

    def __init__(self, target: Any, concurrency: int | None = None, min_success_ratio: float | None = None,
                 min_successes: int | None = None, bound_inputs: set[str] | None = None, **options: Any) -> None:
        fixed: dict[str, Any] = {}
        task = target
        if isinstance(target, functools.partial):
            if target.args:
                raise DefinitionError("map_task(functools.partial(t, ...)): fix inputs by keyword, e.g. "
                                      "partial(t, scale=2)")
            task, fixed = target.func, dict(target.keywords)
        if not isinstance(task, TaskDef):
            what = type(task).__name__
            hint = " (mapping a launch plan or a workflow is not supported: map a task, or call the launch plan " \
                   "once per item in the workflow body)" if what in ("LaunchPlan", "WorkflowDef") else ""
            raise DefinitionError(f"map_task() maps a @task; got {what}{hint}")
        if options:
            raise DefinitionError(f"map_task({task.short_name}): unknown keyword {sorted(options)[0]}=; it accepts "
                                  f"concurrency, min_success_ratio, min_successes, bound_inputs")
        names = [i.name for i in task.inputs]
        unknown = sorted(set(fixed) - set(names))
        if unknown:
            raise DefinitionError(f"map_task({task.short_name}): partial fixes {unknown[0]!r}, which is not an input; "
                                  f"inputs are {names}")
        ratio = 1.0 if min_success_ratio is None else min_success_ratio
        if not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
            raise DefinitionError(f"map_task({task.short_name}): min_success_ratio must be between 0 and 1; "
                                  f"got {min_success_ratio!r}")
        if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 0):
            raise DefinitionError(f"map_task({task.short_name}): concurrency must be a whole number >= 0; "
                                  f"got {concurrency!r}")
        if min_successes is not None and (not isinstance(min_successes, int) or min_successes < 0):
            raise DefinitionError(f"map_task({task.short_name}): min_successes must be a whole number >= 0; "
                                  f"got {min_successes!r}")
        self.task, self.fixed = task, fixed
        self.bound = set(bound_inputs or ()) | set(fixed)
        self.concurrency, self.min_success_ratio, self.min_successes = concurrency, float(ratio), min_successes
        self.short_name = f"map_task({task.short_name})"
        self.name = task.name
        optional = (self.min_success_ratio < 1 or min_successes is not None)
        self.outputs = [OutputDef(o.name, List[Optional[o.type]] if optional else List[o.type], None)  # type: ignore
                        for o in task.outputs]

    def __repr__(self) -> str:
        return f"MapTaskDef({self.task.name})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self.task.bind_call(args, {**self.fixed, **kwargs})
        mapped = self._mapped(bound)
        builder = tracing.current()
        if builder is None:
            return self._run_here(bound, mapped)
        if not mapped:
            given = {k: v for k, v in bound.items() if k not in self.bound}
            raise DefinitionError(
                f"{self.short_name} maps over a list, but no input is one: got {given or 'no free input'}. Pass a list "
                f"(or a task output declared as List[...]) for one of {[i.name for i in self.task.inputs]}")
        where = f"workflow {builder.workflow_name!r}, {self.short_name}"
        node_id = builder.new_id()
        bindings = {}
        for name, value in bound.items():
            b = builder.binding_for(value, f"{where}, input {name!r}", lists=True)
            bindings[name] = {"map": b} if name in mapped else b
        upstream = sorted({r for b in bindings.values() for r in tracing.binding_refs(b)}, key=tracing.node_order)
        inner = tracing.Node(node_id, self.task, bindings, upstream)
        node = MapNode(node_id, inner, mapped, self.concurrency, self.min_success_ratio, self.min_successes, upstream)
        builder.add(node)
        builder.tasks.append(inner)
        if not self.task.outputs:
            return tracing.Promise(node_id, None)
        promises = [tracing.Promise(node_id, o.name, type=o.type) for o in self.outputs]
        return tracing.task_outputs(self.outputs, promises, self.task.output_tuple_name)

    def _mapped(self, bound: dict[str, Any]) -> list[str]:
        """The inputs mapped over, as flytekit decides: the free ones given a list (fixed ones: partial,
        bound_inputs, and values that are not lists, which every item receives as they are)."""
        out = []
        for spec in self.task.inputs:
            if spec.name not in bound or spec.name in self.bound or _is_list_type(spec.type):
                continue
            value = bound[spec.name]
            if isinstance(value, tracing.Promise):
                if _is_list_type(value.type) is not False:
                    out.append(spec.name)
            elif isinstance(value, (list, tuple)):
                out.append(spec.name)
        return out

    def _run_here(self, bound: dict[str, Any], mapped: list[str]) -> Any:
        """Outside a workflow (a test, a notebook): run each item in turn, as flytekit's local execution does."""
        lengths = {len(bound[m]) for m in mapped}
        if len(lengths) > 1:
            raise DefinitionError(f"{self.short_name}: mapped inputs {mapped} have different lengths {sorted(lengths)}")
        count = lengths.pop() if lengths else 0
        results, failed = [], 0
        need = MapNode("", None, mapped, None, self.min_success_ratio, self.min_successes).required(count)  # type: ignore[arg-type]
        for i in range(count):
            try:
                results.append(self.task.fn(**{k: (v[i] if k in mapped else v) for k, v in bound.items()}))
            except Exception:
                failed += 1
                if count - failed < need:
                    raise
                results.append(None)
        if len(self.task.outputs) > 1:
            return tuple([r[j] if r is not None else None for r in results] for j in range(len(self.task.outputs)))
        return results


def map_task(target: Any, concurrency: int | None = None, min_success_ratio: float | None = None,
             min_successes: int | None = None, **kwargs: Any) -> MapTaskDef:
    """flytekit's `map_task` (and `array_node_map_task`): run `target` once per element of its list inputs."""
    kwargs.pop("run_all_sub_nodes", None)  # every item runs to the end here anyway
    return MapTaskDef(target, concurrency=concurrency, min_success_ratio=min_success_ratio,
                      min_successes=min_successes, **kwargs)


__all__ = ["MapNode", "MapTaskDef", "map_task"]
