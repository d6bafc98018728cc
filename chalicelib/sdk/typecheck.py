"""Does a value (or what a trigger binding will produce) fit a workflow input's annotation?

Checked when a launch plan is defined, so a mismatch is an error at import, not a failed run later.
Unknown or unchecked annotations (Any, user classes for artifact values) accept everything.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from datetime import date, datetime, timedelta
from typing import Any

# What each kind of trigger-derived value is, whatever the trigger's data.
PARTITION_VALUE = str
TIME_VALUE = datetime


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _union_members(annotation: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        return typing.get_args(annotation)
    return None


def describe(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def accepts_type(annotation: Any, kind: type) -> bool:
    """Whether an input annotated `annotation` can take a value of type `kind` (str, datetime, ...)."""
    annotation = _unwrap(annotation)
    if annotation in (Any, object, None) or isinstance(annotation, (str, typing.TypeVar)):
        return True  # unannotated, Any, or a forward reference we cannot resolve here
    members = _union_members(annotation)
    if members is not None:
        return any(accepts_type(m, kind) for m in members)
    if annotation is float and kind is int:
        return True
    if annotation is date and kind is datetime:
        return True
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(kind, origin) and not (origin is int and kind is bool)


def accepts_value(annotation: Any, value: Any) -> bool:
    """Whether a constant fits `annotation` (containers are checked element by element)."""
    annotation = _unwrap(annotation)
    if annotation in (Any, object) or isinstance(annotation, (str, typing.TypeVar)):
        return True
    if value is None:
        return annotation is type(None) or (_union_members(annotation) or ()).__contains__(type(None))
    members = _union_members(annotation)
    if members is not None:
        return any(accepts_value(m, value) for m in members)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, collections.abc.Sequence, tuple, set, frozenset):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(args) == len(value) and all(accepts_value(a, v) for a, v in zip(args, value))
        return not args or all(accepts_value(args[0], v) for v in value)
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            return False
        if len(args) == 2:
            return all(accepts_value(args[0], k) and accepts_value(args[1], v) for k, v in value.items())
        return True
    if origin is typing.Literal:
        return value in args
    if isinstance(annotation, type):
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            return True
        if annotation is int and isinstance(value, bool):
            return False
        if annotation in (list, tuple):
            return isinstance(value, (list, tuple))
        return isinstance(value, annotation)
    return True


def example_of(kind: type) -> str:
    return {str: "str", datetime: "datetime", date: "date", timedelta: "timedelta"}.get(kind, kind.__name__)
