"""Conditions of `conditional(...)` (chalicelib.sdk.control) → Choice rules. Pure.

The comparison operator follows the type: int and float compare as Numeric, str (and Enum values) as String,
bool as Boolean (only == and !=). The type comes from the declared type of the input or output compared, else
from the constant it is compared with. A value that is None matches only `is_none()` and `== None`.
"""

from __future__ import annotations

import enum
import typing
from typing import Any

from chalicelib.compile.paths import binding_path
from chalicelib.errors import DefinitionError
from chalicelib.sdk import tracing
from chalicelib.sdk.control import Comparison, Expr, Junction, Unary

SUFFIX = {"==": "Equals", "<": "LessThan", "<=": "LessThanEquals", ">": "GreaterThan", ">=": "GreaterThanEquals"}


def _kind(hint: Any) -> str | None:
    """Numeric, String, Boolean, or None when the type does not say."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else Any
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if hint is bool:
        return "Boolean"
    if hint in (int, float):
        return "Numeric"
    if hint is str or (isinstance(hint, type) and issubclass(hint, enum.Enum)):
        return "String"
    if hint is Any or hint is None:
        return None
    raise DefinitionError(f"type {getattr(hint, '__name__', hint)} cannot be compared in a condition; conditions "
                          f"compare int, float, str, bool or None (compare other values inside a task)")


def _const_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Numeric"
    if isinstance(value, (str, enum.Enum)):
        return "String"
    raise DefinitionError(f"a condition compares with {value!r} ({type(value).__name__}); compare with an int, "
                          f"float, str, bool or None")


def _path(promise: tracing.Promise, where: str) -> str:
    path = binding_path(promise.binding())
    if path is None:
        raise DefinitionError(f"{where}: a condition compares a constant; compare a workflow input or a task output")
    return path


def _comparison(expr: Comparison, where: str) -> dict[str, Any]:
    if expr.op not in SUFFIX and expr.op != "!=":
        raise DefinitionError(f"{where}: unknown comparison {expr.op!r}")
    if expr.op == "!=":
        return {"Not": _comparison(Comparison("==", expr.left, expr.right), where)}
    variable = _path(expr.left, where)
    other = expr.right
    if other is None:
        if expr.op != "==":
            raise DefinitionError(f"{where}: None can only be compared with == or != (or use is_none())")
        return {"Variable": variable, "IsNull": True}
    kind = _kind(expr.left.type)
    if isinstance(other, tracing.Promise):
        kind = kind or _kind(other.type)
        if kind is None:
            raise DefinitionError(f"{where}: comparing two values of undeclared type; annotate the input or output "
                                  f"type (int, float, str or bool)")
        target_key, target = f"{kind}{SUFFIX[expr.op]}Path", _path(other, where)
    else:
        const_kind = _const_kind(other)
        if kind is not None and kind != const_kind:
            raise DefinitionError(f"{where}: a {kind.lower()} value is compared with {other!r}; compare like with like")
        kind = const_kind
        target_key, target = f"{kind}{SUFFIX[expr.op]}", (other.value if isinstance(other, enum.Enum) else other)
    if kind == "Boolean" and expr.op != "==":
        raise DefinitionError(f"{where}: booleans compare only with == and != (or use is_true() / is_false())")
    return {"Variable": variable, target_key: target}


def rule(expr: Expr, where: str) -> dict[str, Any]:
    """The Choice rule (without Next) that is true when `expr` is."""
    if isinstance(expr, Comparison):
        return _comparison(expr, where)
    if isinstance(expr, Unary):
        variable = _path(expr.operand, where)
        if expr.op == "is_none":
            return {"Variable": variable, "IsNull": True}
        kind = _kind(expr.operand.type)
        if kind not in (None, "Boolean"):
            raise DefinitionError(f"{where}: {expr.op}() tests a bool; this value is {kind.lower()}")
        return {"Variable": variable, "BooleanEquals": expr.op == "is_true"}
    if isinstance(expr, Junction):
        parts: list[dict[str, Any]] = []
        for part in expr.parts:
            r = rule(part, where)
            parts += r[expr.op] if list(r) == [expr.op] else [r]  # (a & b) & c → And [a, b, c]
        return {expr.op: parts}
    raise DefinitionError(f"{where}: not a condition: {expr!r}")
