"""How values are written to S3. pandas is imported only when a DataFrame is actually read or written.

Formats:
  parquet  pandas DataFrames (fastparquet engine), readable in place by Athena, duckdb or Spark
  json     every other value, as a JSON literal (see chalicelib.sdk.literals)
  csv      uploads only: read into a DataFrame
"""

from __future__ import annotations

import io
import json
from typing import Any

from chalicelib.errors import ArtifactError
from chalicelib.sdk import literals



def is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def format_for(value: Any) -> str:
    return "parquet" if is_dataframe(value) else "json"


def literal(value: Any, where: str) -> Any:
    """A value as the JSON literal that carries it (chalicelib.sdk.literals)."""
    return literals.encode(value, where)


def dumps(value: Any, fmt: str) -> bytes:
    if fmt == "parquet":
        buf = io.BytesIO()
        value.to_parquet(buf, engine="fastparquet", index=None)
        return buf.getvalue()
    if fmt == "json":
        return json.dumps(literals.encode(value, "artifact value")).encode()
    raise ArtifactError(f"cannot write format {fmt!r}; known formats are parquet and json")


def loads(data: bytes, fmt: str) -> Any:
    if fmt in ("parquet", "csv"):
        import pandas as pd

        if fmt == "csv":
            return pd.read_csv(io.BytesIO(data))
        return pd.read_parquet(io.BytesIO(data), engine="fastparquet")
    if fmt == "json":
        return literals.decode(json.loads(data))
    raise ArtifactError(f"cannot read format {fmt!r}; known formats are parquet, csv and json")


PARQUET_MAGIC = b"PAR1"


def parquet_tail_bytes(tail: bytes) -> int:
    """How many bytes at the end of a parquet object hold its footer (metadata, its length, the magic), read
    from at least its last 8 bytes."""
    if len(tail) < 8 or tail[-4:] != PARQUET_MAGIC:
        raise ArtifactError("the object is not parquet: it does not end in PAR1")
    return int.from_bytes(tail[-8:-4], "little") + 8


def parquet_schema(tail: bytes) -> list[tuple[str, str]]:
    """A parquet object's columns and their pandas dtypes (e.g. `int64`, `datetime64[ns, UTC]`), from its
    footer: `tail` is the whole object or at least its last parquet_tail_bytes."""
    import fastparquet

    footer = tail[-parquet_tail_bytes(tail):]
    pf = fastparquet.ParquetFile(io.BytesIO(PARQUET_MAGIC + footer))  # the data pages are never read
    return [(name, str(dtype)) for name, dtype in pf.dtypes.items() if name in pf.columns]
