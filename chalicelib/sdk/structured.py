"""flytekit's StructuredDataset and `kwtypes`: a table, carried exactly as a pandas DataFrame is (parquet in S3,
passed by reference), with the column subset an annotation names selected when a task reads it.

    @task
    def subset(df: Annotated[StructuredDataset, kwtypes(Age=int)]) -> StructuredDataset:
        ages = df.open(pd.DataFrame).all()          # only the column Age
        return StructuredDataset(dataframe=ages)

A task may return a StructuredDataset or a DataFrame where a StructuredDataset is declared, and an input declared
`Annotated[pd.DataFrame, kwtypes(...)]` gets the subset too, as in flytekit. `StructuredDataset(uri=...)` (an
`s3://` URI or a local path, to a parquet or csv file or a folder of them) is read on `.all()`, and read then
stored again as parquet when a task returns it. Column types are not checked or
cast (flytekit's pandas decoder does not either). This module never imports pandas at import time.
"""

from __future__ import annotations

import collections
import os
import typing
from pathlib import Path
from typing import Any, Iterator

from chalicelib.errors import DefinitionError, TaskFailedError

PARQUET = "parquet"
CSV = "csv"
GENERIC_FORMAT = ""


class MissingColumnsError(TaskFailedError):
    """A task's input annotation names columns that the table it received does not have."""


def kwtypes(**columns: Any) -> collections.OrderedDict[str, Any]:
    """`kwtypes(a=int, b=str)`: names and types in order, as flytekit's."""
    return collections.OrderedDict(columns)


class StructuredDataset:
    """A table. `StructuredDataset(dataframe=df)` to return one; `sd.open(pd.DataFrame).all()` to read one."""

    def __init__(self, dataframe: Any = None, uri: str | None = None, metadata: Any = None, **kwargs: Any) -> None:
        self._dataframe = dataframe
        self.uri = uri
        self.file_format = kwargs.get("file_format", GENERIC_FORMAT)
        self.metadata = metadata
        self._columns: list[str] | None = None  # the subset the reading task's annotation names
        self._dataframe_type: Any = None

    @property
    def dataframe(self) -> Any:
        return self._dataframe

    @classmethod
    def columns(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def column_names(cls) -> list[str]:
        return list(cls.columns())

    def open(self, dataframe_type: Any) -> StructuredDataset:
        if not (isinstance(dataframe_type, type) and dataframe_type.__name__ == "DataFrame"
                and dataframe_type.__module__.startswith("pandas")):
            raise DefinitionError(
                f"StructuredDataset.open({getattr(dataframe_type, '__name__', dataframe_type)}): tables are read "
                f"as pandas.DataFrame here; open(pd.DataFrame), then convert")
        self._dataframe_type = dataframe_type
        return self

    def all(self) -> Any:
        if self._dataframe_type is None:
            raise DefinitionError("No dataframe type set. Use open(pd.DataFrame) before all()")
        if self._dataframe is None:
            if not self.uri:
                raise DefinitionError("StructuredDataset() has neither a dataframe nor a uri; pass dataframe=df")
            self._dataframe = read_uri(self.uri, self.file_format)
        return select(self._dataframe, self._columns, "StructuredDataset")

    def iter(self) -> Iterator[Any]:
        yield self.all()

    def __repr__(self) -> str:
        shape = getattr(self._dataframe, "shape", None)
        return f"StructuredDataset(shape={shape}, uri={self.uri!r}, columns={self._columns})"


def read_uri(uri: str, file_format: str = GENERIC_FORMAT) -> Any:
    """`StructuredDataset(uri=...)` read as flytekit does: an `s3://` URI or a local path, to one parquet (or csv)
    file or a folder of them (flytekit writes a folder), downloaded into the task's working directory."""
    import pandas as pd

    from chalicelib.sdk.files import FlyteDirectory, FlyteFile

    def read(path: str) -> Any:
        if (file_format or "").lower() == CSV or path.lower().endswith(".csv"):
            return pd.read_csv(path)
        return pd.read_parquet(path, engine="fastparquet")

    is_folder = uri.endswith("/") or (not uri.startswith("s3://") and os.path.isdir(uri))
    try:
        if not is_folder:
            return read(FlyteFile(uri).path)
        folder = Path(FlyteDirectory(uri).path)
        parts = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
        if not parts:
            raise DefinitionError(f"StructuredDataset(uri={uri!r}): the folder holds no files")
        return pd.concat([read(str(p)) for p in parts], ignore_index=True)
    except DefinitionError:
        raise
    except Exception as exc:
        raise TaskFailedError(
            f"StructuredDataset(uri={uri!r}) cannot be read as {file_format or 'parquet'}: "
            f"{type(exc).__name__}: {exc}") from exc


def is_structured_type(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, StructuredDataset)


def declared_columns(hint: Any) -> list[str] | None:
    """The columns an `Annotated[..., kwtypes(...)]` (or a dict, or a dataclass) names; None when it names none."""
    if typing.get_origin(hint) is not typing.Annotated:
        return None
    for extra in typing.get_args(hint)[1:]:
        if isinstance(extra, dict):
            return [str(k) for k in extra]
        if isinstance(extra, type) and hasattr(extra, "__dataclass_fields__"):
            return list(extra.__dataclass_fields__)
    return None


def select(df: Any, columns: list[str] | None, where: str) -> Any:
    if not columns:
        return df
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnsError(
            f"{where}: the annotation reads columns {columns}, but the table has no column "
            f"{', '.join(repr(c) for c in missing)}; its columns are {[str(c) for c in df.columns]}")
    return df[columns]


def arriving(df: Any, hint: Any, bare: Any, where: str) -> Any:
    """A table arriving at a task input declared `hint` (`bare` is it without Annotated/Optional)."""
    columns = declared_columns(hint)
    if is_structured_type(bare):
        sd = bare(dataframe=df, file_format=PARQUET)
        sd._columns = columns
        return sd
    return select(df, columns, where)


def leaving(value: Any, where: str) -> Any:
    """A task's StructuredDataset (or DataFrame) output as the DataFrame that is stored."""
    if isinstance(value, StructuredDataset):
        if value.dataframe is None and not value.uri:
            raise TaskFailedError(f"{where}: StructuredDataset() has neither a dataframe nor a uri")
        # a uri is read and stored again: the engine stores every table it passes on, as parquet
        value = value.dataframe if value.dataframe is not None else read_uri(value.uri, value.file_format)
    if not (type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")):
        raise TaskFailedError(
            f"{where} is declared StructuredDataset but the task returned {type(value).__name__}; return "
            f"StructuredDataset(dataframe=df) or a pandas.DataFrame")
    return value
