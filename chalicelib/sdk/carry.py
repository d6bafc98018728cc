"""Type-aware conversion of task inputs and outputs, and the registration-time check of declared types.

What the engine carries (and `Optional[...]` of each):

    int  float  bool  str  datetime  date  timedelta         JSON, with tags for the time types
    list[T]  dict[str, T]  (and bare list / dict)             JSON of the above
    Enum subclasses, dataclasses of carried types             JSON (value / fields), rebuilt on arrival
    pandas.DataFrame, StructuredDataset                      parquet in S3, passed by reference; the columns
                                                              an Annotated[..., kwtypes(...)] input names are
                                                              selected when the task reads it
    FlyteFile  FlyteDirectory                                 uploaded to S3, passed by reference
    Any / no annotation                                       whatever JSON can hold

Values cross Step Functions as JSON literals; anything over `max_inline_bytes` (and every DataFrame) goes to
S3 and crosses as a reference. A declared type outside this list fails registration with an error that names
the task, the input (or output) and the type. This module never imports pandas.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types as pytypes
import typing
from datetime import date, datetime, timedelta, timezone
from typing import Any

from chalicelib.errors import DefinitionError, TaskFailedError
from chalicelib.sdk import compat, files, structured
from chalicelib.sdk.timeparts import to_utc

SCALARS = (int, float, bool, str, datetime, date, timedelta)


class UnsupportedTypeError(DefinitionError):
    """A task or workflow declares an input or output type that cannot cross between tasks."""


class OutputTypeError(TaskFailedError):
    """A task returned a value that does not match its declared output type."""


# -- reading annotations ----------------------------------------------------------------------------------
def strip(hint: Any) -> Any:
    """Drop `Annotated[...]` metadata."""
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def optional_inner(hint: Any) -> tuple[Any, bool]:
    """`Optional[T]` → (T, True); anything else → (hint, False)."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is pytypes.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0], True
    return hint, False


def is_dataframe_type(hint: Any) -> bool:
    return isinstance(hint, type) and hint.__name__ == "DataFrame" and hint.__module__.startswith("pandas")


def is_table_type(hint: Any) -> bool:
    """pandas.DataFrame or StructuredDataset: stored as parquet."""
    return is_dataframe_type(hint) or structured.is_structured_type(hint)


def describe(hint: Any) -> str:
    if is_dataframe_type(hint):
        return "pandas.DataFrame"
    if structured.is_structured_type(hint) or files.is_file_type(hint):
        return hint.__name__
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__qualname__ if hint.__module__ in ("builtins", "datetime") else f"{hint.__module__}.{hint.__qualname__}"
    return str(hint).replace("typing.", "")


def why_unsupported(hint: Any) -> str | None:
    """None when the engine can carry `hint`; otherwise the reason, in words."""
    hint = strip(hint)
    if hint in (Any, inspect.Parameter.empty, None, type(None)) or hint in SCALARS or hint in (list, dict):
        return None
    inner, optional = optional_inner(hint)
    if optional:
        return why_unsupported(inner)
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is pytypes.UnionType:
        return "a Union of several types cannot be told apart on arrival; use Optional[T] or one type"
    if origin in (list, typing.List):
        (item,) = typing.get_args(hint) or (Any,)
        if is_table_type(strip(item)):
            return "lists of DataFrames are not carried; concatenate them, or return one DataFrame per task"
        return why_unsupported(item)
    if origin in (dict, typing.Dict):
        key, val = typing.get_args(hint) or (str, Any)
        if strip(key) is not str:
            return "dict keys must be str (they travel as JSON object keys)"
        if is_table_type(strip(val)):
            return "dicts of DataFrames are not carried; return one DataFrame per task"
        return why_unsupported(val)
    if is_table_type(hint) or files.is_file_type(hint):
        return None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        try:
            field_hints = typing.get_type_hints(hint, include_extras=True)
        except Exception as exc:
            return f"its field types cannot be read ({exc})"
        for f in dataclasses.fields(hint):
            reason = why_unsupported(field_hints.get(f.name, Any))
            if reason:
                return f"field {f.name!r}: {reason}"
            if is_table_type(strip(field_hints.get(f.name))):
                return f"field {f.name!r}: DataFrames inside dataclasses are not carried; return the DataFrame itself"
        return None
    if isinstance(hint, type) and issubclass(hint, compat._RefusedClass):
        return compat.UNSUPPORTED[hint.__name__]
    if origin in (tuple, typing.Tuple) or hint is tuple:
        return ("a tuple value is not carried; several outputs are declared as -> Tuple[A, B] (fixed length) or a "
                "typing.NamedTuple, each element an output; for one value return a list, a dict or a dataclass")
    return "it is not one of int, float, bool, str, datetime, date, timedelta, list, dict, an Enum, a dataclass, " \
           "pandas.DataFrame, StructuredDataset, FlyteFile or FlyteDirectory (or Optional of one)"


def check_callable(kind: str, name: str, inputs: list[Any], outputs: list[Any]) -> None:
    for spec in inputs:
        reason = why_unsupported(spec.type)
        if reason:
            raise UnsupportedTypeError(
                f"{kind} {name!r}, input {spec.name!r}: type {describe(spec.type)} cannot be carried between tasks: "
                f"{reason}"
            )
    for spec in outputs:
        reason = why_unsupported(spec.type)
        if reason:
            raise UnsupportedTypeError(
                f"{kind} {name!r}, output {spec.name!r} (its return value): type {describe(spec.type)} cannot be "
                f"carried between tasks: {reason}"
            )


def check_definitions(defs: Any) -> None:
    """Registration-time check of every task's and workflow's declared types."""
    for task in defs.tasks.values():
        check_callable("task", task.short_name, task.inputs, task.outputs)
    for wf in defs.workflows.values():
        check_callable("workflow", wf.short_name, wf.inputs, wf.outputs)


# -- arriving values --------------------------------------------------------------------------------------
def to_python(value: Any, hint: Any, s3: Any = None) -> Any:
    """A materialized input value, converted to the task's declared type (files become lazy objects)."""
    declared = hint
    hint = strip(hint)
    if files.is_file_literal(value):
        return files.from_literal(value, s3)
    if value is None:
        return None
    inner, _ = optional_inner(hint)
    if typing.get_origin(inner) is typing.Annotated:
        declared = inner  # Optional[Annotated[T, kwtypes(...)]]
    hint = strip(inner)
    origin = typing.get_origin(hint)
    if is_table_type(hint) and is_dataframe_type(type(value)):
        return structured.arriving(value, declared, hint, f"input of type {describe(hint)}")
    if hint is datetime:
        if isinstance(value, (str, date)):
            return to_utc(value)
        return value
    if hint is date:
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc).date()
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
        return value
    if hint is timedelta and isinstance(value, (int, float)):
        return timedelta(seconds=value)
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if files.is_file_type(hint) and isinstance(value, str):
        obj = hint(value)
        if s3 is not None:
            obj.bind_client(s3)
        return obj
    if isinstance(hint, type) and issubclass(hint, enum.Enum) and not isinstance(value, hint):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        field_hints = typing.get_type_hints(hint)
        return hint(**{k: to_python(v, field_hints.get(k, Any), s3) for k, v in value.items()})
    if origin in (list, typing.List) and isinstance(value, list):
        (item,) = typing.get_args(hint) or (Any,)
        return [to_python(v, item, s3) for v in value]
    if origin in (dict, typing.Dict) and isinstance(value, dict):
        _, val = typing.get_args(hint) or (str, Any)
        return {k: to_python(v, val, s3) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v, Any, s3) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v, Any, s3) for k, v in value.items()}
    return value


# -- leaving values ---------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """numpy scalars (what pandas hands back from `df[c].sum()`) as Python scalars."""
    if type(value).__module__ == "numpy" and callable(getattr(value, "item", None)):
        return value.item()
    return value


def to_output(value: Any, hint: Any, where: str) -> Any:
    """A task's return value, checked against and shaped by its declared type before it is stored."""
    value = _plain(value)
    hint = strip(hint)
    if value is None:
        return None
    inner, _ = optional_inner(hint)
    hint = strip(inner)
    origin = typing.get_origin(hint)
    if files.is_file_type(hint):
        if isinstance(value, str) or (hasattr(value, "__fspath__") and not files.is_file_value(value)):
            return hint(value if isinstance(value, str) else str(value))
        if not files.is_file_value(value):
            raise OutputTypeError(f"{where} is declared {describe(hint)} but the task returned {type(value).__name__}")
        return value
    if hint in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise OutputTypeError(f"{where} is declared {hint.__name__} but the task returned {type(value).__name__} {value!r}")
    if hint is int and isinstance(value, float):
        if not value.is_integer():
            raise OutputTypeError(f"{where} is declared int but the task returned {value!r}")
        return int(value)
    if hint is str and not isinstance(value, str):
        raise OutputTypeError(f"{where} is declared str but the task returned {type(value).__name__} {value!r}")
    if hint is bool and not isinstance(value, bool):
        raise OutputTypeError(f"{where} is declared bool but the task returned {type(value).__name__} {value!r}")
    if structured.is_structured_type(hint) or isinstance(value, structured.StructuredDataset):
        return structured.leaving(value, where)
    if is_dataframe_type(hint) and not is_dataframe_type(type(value)):
        raise OutputTypeError(f"{where} is declared pandas.DataFrame but the task returned {type(value).__name__}")
    if origin in (list, typing.List) and isinstance(value, (list, tuple)):
        (item,) = typing.get_args(hint) or (Any,)
        return [to_output(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, typing.Dict) and isinstance(value, dict):
        _, val = typing.get_args(hint) or (str, Any)
        return {k: to_output(v, val, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
