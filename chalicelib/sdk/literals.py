"""JSON literals: how values cross Step Functions. Plain JSON stays plain; other types carry a one-key tag.

    {"$datetime": "2026-11-25T00:00:00Z"}   {"$date": "2026-11-25"}   {"$timedelta": 3600.0}
    {"$ref": {"uri": "s3://...", "format": "parquet"}}          data too big or not JSON (DataFrames)
    {"$artifact": {"name": ..., "version": ..., "uri": ..., "format": ...}}   an artifact version
    {"$query": {"artifact": ..., "partitions": {...}, "time_partition": ..., "version": ...}}   resolved at run time
    {"$file": {"uri": "s3://...", "name": ...}}   {"$dir": {"uri": "s3://.../"}}   see chalicelib.sdk.files
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.errors import DefinitionError
from chalicelib.sdk.timeparts import iso, to_utc

TAGS = ("$datetime", "$date", "$timedelta", "$ref", "$artifact", "$query", "$file", "$dir")


def encode(value: Any, where: str = "value") -> Any:
    """Encode a plain value (no data frames) as a JSON literal."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value).__name__ == "InputRef":  # chalicelib.sdk.artifact.InputRef, not imported here (light module)
        raise DefinitionError(
            f"{where}: Inputs.{value.name} means a workflow input only in an output annotation "
            f"(A(key=Inputs.{value.name})) or in a query that is a workflow input's default; in a trigger's inputs "
            f"bind A.partitions.<key> or A.time_partition, elsewhere pass the value itself")
    if callable(getattr(value, "to_literal", None)):  # FlyteFile, FlyteDirectory
        return value.to_literal()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name), where) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return {"$datetime": iso(to_utc(value))}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, (list, tuple)):
        return [encode(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise DefinitionError(f"{where}: dict keys must be strings; got {list(value)!r}")
        if len(value) == 1 and next(iter(value)) in TAGS:
            raise DefinitionError(f"{where}: dict key {next(iter(value))!r} is reserved")
        return {k: encode(v, where) for k, v in value.items()}
    raise DefinitionError(
        f"{where}: cannot pass a {type(value).__name__} as a literal; use str, int, float, bool, "
        f"datetime, date, timedelta, list or dict of those, or an artifact"
    )


def decode(literal: Any) -> Any:
    """Decode tags that need no storage access; `$ref` and `$artifact` are left for the runtime."""
    if isinstance(literal, list):
        return [decode(v) for v in literal]
    if isinstance(literal, dict):
        if len(literal) == 1:
            tag, body = next(iter(literal.items()))
            if tag == "$datetime":
                return to_utc(body)
            if tag == "$date":
                return date.fromisoformat(body)
            if tag == "$timedelta":
                return timedelta(seconds=body)
            if tag in ("$ref", "$artifact", "$query"):
                return literal
        return {k: decode(v) for k, v in literal.items()}
    return literal
