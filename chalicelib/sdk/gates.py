"""flytekit's gate nodes: `sleep`, `wait_for_input`, `approve` (chalicelib.compile.gates makes the states).

    sleep(timedelta(minutes=5))                         a Wait state
    wait_for_input("threshold", timeout=timedelta(hours=1), expected_type=int)
                                                        waits for `python -m chalicelib signal EXECUTION
                                                        threshold 42`; the value is its output
    approve(report, "publish", timeout=timedelta(days=1))
                                                        waits for `signal EXECUTION publish --approve`
                                                        (or --reject, which fails the execution); passes
                                                        `report` on

A gate with no input runs as soon as the workflow starts; order it with `>>` (`a >> sleep(...) >> b()`),
as in flytekit. A timeout fails the execution with States.Timeout.
"""

from __future__ import annotations

import datetime as _dt
import typing
from typing import Any

from msgspec import Struct, field

from chalicelib.errors import DefinitionError
from chalicelib.sdk import tracing
from chalicelib.sdk.charset import check_name

# the types a signal's value is checked against (chalicelib.cli.signal parses VALUE by this name)
SIGNAL_TYPES = {int: "int", float: "float", str: "str", bool: "bool", dict: "json", list: "json"}
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600  # an execution of a Standard workflow lasts at most a year


class GateNode(Struct):
    id: str
    kind: str  # sleep, input, approve
    name: str
    seconds: int  # the wait (sleep) or the timeout (input, approve)
    expected_type: str | None = None
    bindings: dict[str, dict[str, Any]] = field(default_factory=dict)
    upstream: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name

    def refs(self) -> set[str]:
        return set(self.upstream)


def _seconds(value: Any, what: str) -> int:
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise DefinitionError(f"{what} takes a timedelta; got {value!r}")
    if seconds < 0 or seconds > MAX_TIMEOUT_SECONDS:
        raise DefinitionError(f"{what}: {value!r} is out of range; it must be between 0 and 365 days (the longest a "
                              f"Standard execution runs)")
    return max(int(round(seconds)), 0)


def _builder(what: str) -> tracing.WorkflowBuilder:
    builder = tracing.current()
    if builder is None:
        raise DefinitionError(f"{what} is a gate node: it only works inside a @workflow body")
    return builder


def _type_name(expected_type: Any, what: str) -> str:
    base = typing.get_origin(expected_type) or expected_type
    if base in SIGNAL_TYPES:
        return SIGNAL_TYPES[base]
    raise DefinitionError(f"{what}: expected_type {expected_type!r} cannot be signalled; use int, float, str, bool, "
                          f"dict or list")


def sleep(duration: Any) -> tracing.Promise:
    builder = _builder("sleep()")
    node = GateNode(builder.new_id(), "sleep", "sleep", _seconds(duration, "sleep()"))
    builder.add(node)
    return tracing.Promise(node.id, None)


def wait_for_input(name: str, timeout: Any, expected_type: Any = str, **_kwargs: Any) -> tracing.Promise:
    what = f"wait_for_input({name!r})"
    builder = _builder(what)
    check_name("gate", name)
    node = GateNode(builder.new_id(), "input", name, _seconds(timeout, f"{what} timeout"),
                    expected_type=_type_name(expected_type, what))
    builder.add(node)
    return tracing.Promise(node.id, "o0", type=expected_type)


def approve(upstream: Any, name: str, timeout: Any) -> Any:
    what = f"approve({name!r})"
    builder = _builder(what)
    check_name("gate", name)
    if not isinstance(upstream, tracing.Promise):
        raise DefinitionError(f"{what} approves a task's output; got {upstream!r}")
    binding = builder.binding_for(upstream, what)
    node = GateNode(builder.new_id(), "approve", name, _seconds(timeout, f"{what} timeout"),
                    bindings={"o0": binding}, upstream=sorted(tracing.binding_refs(binding), key=tracing.node_order))
    builder.add(node)
    return tracing.Promise(node.id, "o0", type=upstream.type)
