"""An uploaded file's content → the data object of the new version, or UploadRejected.

    csv      read into a DataFrame, stored as parquet (so every version of a table artifact has one format)
    parquet  read to check it, stored as uploaded
    json     one JSON value, stored as a JSON literal (what a task returning that value would store)

pandas is imported only for csv and parquet.
"""

from __future__ import annotations

import io
import json
from typing import Any

from chalicelib.errors import CascadeError
from chalicelib.sdk import literals
from chalicelib.store import codec
from chalicelib.uploads.errors import Reason, UploadRejected


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_frame(df: Any, key: str, fmt: str) -> None:
    if len(df.columns) == 0 or len(df) == 0:
        raise UploadRejected(Reason.EMPTY, f"upload {key!r}: the {fmt} file has no rows; upload a file with data")


def prepare(body: bytes, fmt: str, key: str) -> tuple[bytes, str]:
    """Check `body` parses as `fmt`; returns (stored bytes, stored format)."""
    if not body.strip():
        raise UploadRejected(Reason.EMPTY, f"upload {key!r} is empty; upload a file with data")
    if fmt == "json":
        try:
            value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
            literal = literals.encode(value, f"upload {key!r}")
        except (UnicodeDecodeError, ValueError, CascadeError) as exc:
            raise UploadRejected(Reason.UNPARSEABLE, f"upload {key!r} is not valid JSON: {exc}") from exc
        return json.dumps(literal).encode(), "json"
    if fmt not in ("csv", "parquet"):
        raise UploadRejected(Reason.UNSUPPORTED_FORMAT, f"upload {key!r}: format {fmt!r} is not csv, parquet or json")
    import pandas as pd

    try:
        if fmt == "csv":
            df = pd.read_csv(io.BytesIO(body))
        else:
            df = pd.read_parquet(io.BytesIO(body), engine="fastparquet")
    except Exception as exc:  # pandas and its engines raise many types for a bad file
        raise UploadRejected(
            Reason.UNPARSEABLE, f"upload {key!r} cannot be read as {fmt}: {type(exc).__name__}: {exc}"
        ) from exc
    _check_frame(df, key, fmt)
    if fmt == "parquet":
        return body, "parquet"
    try:
        return codec.dumps(df, "parquet"), "parquet"
    except Exception as exc:
        raise UploadRejected(
            Reason.UNPARSEABLE, f"upload {key!r}: the csv parses but cannot be stored as parquet: {exc}"
        ) from exc
