"""An uploaded file's content → the data object of the new version, or UploadRejected.

    csv      read in chunks, stored as parquet, one row group per chunk (every version of a table artifact
             has one format), in memory bounded by the chunk size plus the parquet being built
    parquet  its footer and every row group read to check it, one row group at a time; stored as uploaded
    json     one JSON value, stored as a JSON literal (what a task returning that value would store)

The content arrives as `Source`: something that opens a fresh stream of exactly the uploaded object (the
handler's opens a GetObject of that version or ETag), so a CSV can be read twice without holding it.

A CSV is read twice. The first pass only infers each column's type over the whole file, as reading the
whole file at once would (a column of integers with one empty cell further down is float; a column with any
text is text). The second pass reads every chunk with those types, so all row groups share one schema.
Reading the whole file into a DataFrame took about 6 times the file's size (a 300 MiB CSV peaked at
1.7 GiB; see benchmarks/upload_memory.py for the figures of both).

pandas (and fastparquet) are imported only for csv and parquet.
"""

from __future__ import annotations

import io
import itertools
import json
from typing import IO, Any, Callable, Iterator

from pydantic import BaseModel

from chalicelib.errors import CascadeError
from chalicelib.sdk import literals
from chalicelib.uploads.errors import Reason, UploadRejected

MiB = 1024 * 1024
SAMPLE_BYTES = MiB  # read first to estimate the bytes per CSV row, hence the rows per chunk
NUMERIC = {"int64", "uint64", "float64"}


class Limits(BaseModel):
    """What one upload may cost. Environment variables (CASCADE_<FIELD>) set them on a stage."""

    max_upload_bytes: int = 512 * MiB
    max_json_upload_bytes: int = 16 * MiB  # json.loads holds ~20 bytes per byte of a list of small numbers
    max_json_depth: int = 64
    csv_chunk_bytes: int = 16 * MiB  # CSV bytes per chunk (and parquet row group)
    max_parquet_row_group_bytes: int = 256 * MiB  # uncompressed, as the footer says; decoded one at a time


Source = Callable[[], IO[bytes]]


# -- bounded reading ------------------------------------------------------------------------------------
class _Bounded(io.RawIOBase):
    """A read-only stream of `source` that refuses to go past `limit` bytes (OVERSIZE), with `head` (bytes
    already read from the source) in front."""

    def __init__(self, source: IO[bytes], limit: int, key: str, head: bytes = b"") -> None:
        self.source, self.limit, self.key = source, limit, key
        self.head = memoryview(head)
        self.count = len(head)
        self.rejected: UploadRejected | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.head:
            n = min(len(view), len(self.head))
            view[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.source.read(len(view))
        self.count += len(data)
        if self.count > self.limit:
            self.rejected = UploadRejected(
                Reason.OVERSIZE,
                f"upload {self.key!r} is larger than the limit of {self.limit} bytes (CASCADE_MAX_UPLOAD_BYTES)")
            raise self.rejected
        view[:len(data)] = data
        return len(data)


def read_all(source: Source, limit: int, key: str, setting: str = "CASCADE_MAX_UPLOAD_BYTES") -> bytes:
    """The whole content, or OVERSIZE as soon as it passes `limit` bytes."""
    stream = source()
    try:
        body = stream.read(limit + 1)
    finally:
        stream.close()
    if len(body) > limit:
        raise UploadRejected(Reason.OVERSIZE, f"upload {key!r} is larger than the limit of {limit} bytes for its "
                                              f"format ({setting}); split it into smaller files")
    return body


# -- json ---------------------------------------------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def depth(value: Any) -> int:
    """How deeply lists and dicts nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in item)
    return deepest


def _too_deep(key: str, limit: int, found: str) -> UploadRejected:
    return UploadRejected(Reason.TOO_DEEP, f"upload {key!r}: the JSON value nests {found} levels deep; the limit is "
                                           f"{limit} (CASCADE_MAX_JSON_DEPTH). Flatten it, or upload a table as CSV")


def prepare_json(body: bytes, key: str, limits: Limits) -> bytes:
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError as exc:  # the C scanner stops at the interpreter's recursion limit
        raise _too_deep(key, limits.max_json_depth, "more than a thousand") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise UploadRejected(Reason.UNPARSEABLE, f"upload {key!r} is not valid JSON: {exc}") from exc
    found = depth(value)
    if found > limits.max_json_depth:
        raise _too_deep(key, limits.max_json_depth, str(found))
    try:
        literal = literals.encode(value, f"upload {key!r}")
    except CascadeError as exc:
        raise UploadRejected(Reason.UNPARSEABLE, f"upload {key!r} is not valid JSON: {exc}") from exc
    return json.dumps(literal).encode()


# -- parquet --------------------------------------------------------------------------------------------
def check_parquet(body: bytes, key: str, limits: Limits) -> None:
    """Footer and every row group readable, at least one row and one column; one row group decoded at a time."""
    from fastparquet import ParquetFile

    try:
        pf = ParquetFile(io.BytesIO(body))
        rows, columns = pf.count(), len(pf.columns)
    except Exception as exc:  # fastparquet raises many types for a bad file
        raise UploadRejected(Reason.UNPARSEABLE,
                             f"upload {key!r} cannot be read as parquet: {type(exc).__name__}: {exc}") from exc
    if rows == 0 or columns == 0:
        raise UploadRejected(Reason.EMPTY, f"upload {key!r}: the parquet file has no rows; upload a file with data")
    for i, group in enumerate(pf.row_groups):
        if (group.total_byte_size or 0) > limits.max_parquet_row_group_bytes:
            raise UploadRejected(
                Reason.OVERSIZE,
                f"upload {key!r}: row group {i} holds {group.total_byte_size} bytes uncompressed; the limit is "
                f"{limits.max_parquet_row_group_bytes} (CASCADE_MAX_PARQUET_ROW_GROUP_BYTES). Write it with "
                f"smaller row groups (e.g. row_group_offsets= in fastparquet, row_group_size= in pyarrow)")
    try:
        for _ in pf.iter_row_groups():
            pass
    except Exception as exc:
        raise UploadRejected(Reason.UNPARSEABLE,
                             f"upload {key!r} cannot be read as parquet: {type(exc).__name__}: {exc}") from exc


# -- csv ------------------------------------------------------------------------------------------------
def common_dtype(dtypes: list[str]) -> str:
    """The type a column has over all chunks, as one read of the whole file gives it (pandas' C parser
    yields int64, uint64, float64, bool or object): one type stays; numbers together are float64; anything
    else together is text."""
    kinds = set(dtypes)
    if len(kinds) == 1:
        return dtypes[0]
    if kinds <= NUMERIC:
        return "float64"
    return "object"


def _unreadable(key: str, exc: BaseException) -> UploadRejected:
    return UploadRejected(Reason.UNPARSEABLE, f"upload {key!r} cannot be read as csv: {type(exc).__name__}: {exc}")


class _CsvPass:
    """One pass over the CSV in chunks of `rows` rows (a context manager closing the stream)."""

    def __init__(self, source: Source, key: str, limits: Limits, rows: int | None = None,
                 dtype: dict[str, str] | None = None) -> None:
        self.key, self.limits, self.dtype = key, limits, dtype
        self.raw = source()
        head = b""
        if rows is None:
            head = self.raw.read(SAMPLE_BYTES)
            lines = max(1, head.count(b"\n"))
            rows = max(1, limits.csv_chunk_bytes * lines // max(1, len(head)))
        self.rows = rows
        self.bounded = _Bounded(self.raw, limits.max_upload_bytes, key, head)

    def __enter__(self) -> _CsvPass:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.raw.close()

    def chunks(self) -> Iterator[Any]:
        import pandas as pd

        try:
            reader = pd.read_csv(io.BufferedReader(self.bounded, buffer_size=MiB), chunksize=self.rows,
                                 dtype=self.dtype)
            with reader:
                yield from reader
        except UploadRejected:
            raise
        except pd.errors.EmptyDataError as exc:
            raise UploadRejected(Reason.EMPTY, f"upload {self.key!r}: the csv file has no columns; upload a file "
                                               f"with a header and rows") from exc
        except Exception as exc:  # pandas raises many types for a bad file
            if self.bounded.rejected is not None:
                raise self.bounded.rejected from exc
            raise _unreadable(self.key, exc) from exc


def csv_to_parquet(source: Source, key: str, limits: Limits) -> bytes:
    """The CSV as parquet: pass 1 infers the column types over the whole file, pass 2 writes a row group per
    chunk with those types."""
    from fastparquet import writer

    seen: dict[str, list[str]] = {}
    rows = 0
    with _CsvPass(source, key, limits) as first:
        for chunk in first.chunks():
            rows += len(chunk)
            for name, dtype in chunk.dtypes.items():
                seen.setdefault(str(name), []).append(str(dtype))
        chunk_rows = first.rows
    if rows == 0 or not seen:
        raise UploadRejected(Reason.EMPTY, f"upload {key!r}: the csv file has no rows; upload a file with data")
    dtypes = {name: common_dtype(kinds) for name, kinds in seen.items()}
    out = io.BytesIO()
    with _CsvPass(source, key, limits, rows=chunk_rows, dtype=dtypes) as second:
        chunks = second.chunks()
        try:
            head = next(chunks)
        except StopIteration:
            raise UploadRejected(Reason.EMPTY, f"upload {key!r}: the csv file has no rows; upload a file with data")
        try:
            fmd = writer.make_metadata(head, has_nulls=True, object_encoding="utf8", index_cols=[],
                                       cols_dtype=head.columns.dtype)
            writer.write_simple(out, itertools.chain([head], chunks), fmd, compression="SNAPPY", stats="auto")
        except UploadRejected:
            raise
        except Exception as exc:
            raise UploadRejected(Reason.UNPARSEABLE, f"upload {key!r}: the csv parses but cannot be stored as "
                                                     f"parquet: {type(exc).__name__}: {exc}") from exc
    return out.getvalue()


# -- all formats ------------------------------------------------------------------------------------------
def prepare(source: Source, fmt: str, key: str, limits: Limits) -> tuple[bytes, str]:
    """Check the content parses as `fmt`; returns (stored bytes, stored format)."""
    if fmt == "json":
        body = read_all(source, min(limits.max_json_upload_bytes, limits.max_upload_bytes), key,
                        "CASCADE_MAX_JSON_UPLOAD_BYTES")
        if not body.strip():
            raise UploadRejected(Reason.EMPTY, f"upload {key!r} is empty; upload a file with data")
        return prepare_json(body, key, limits), "json"
    if fmt == "parquet":
        body = read_all(source, limits.max_upload_bytes, key)
        if not body.strip():
            raise UploadRejected(Reason.EMPTY, f"upload {key!r} is empty; upload a file with data")
        check_parquet(body, key, limits)
        return body, "parquet"
    if fmt == "csv":
        return csv_to_parquet(source, key, limits), "parquet"
    raise UploadRejected(Reason.UNSUPPORTED_FORMAT, f"upload {key!r}: format {fmt!r} is not csv, parquet or json")
