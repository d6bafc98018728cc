"""flytekit's StructuredDataset and `kwtypes`: a table, carried exactly as a pandas DataFrame is (parquet in S3,
passed by reference), with the column subset an annotation names selected when a task reads it.

    @task
    def subset(df: Annotated[StructuredDataset, kwtypes(Age=int)]) -> StructuredDataset:
        ages = df.open(pd.DataFrame).all()          # only the column Age
        return StructuredDataset(dataframe=ages)

A task may return a StructuredDataset or a DataFrame where a StructuredDataset is declared, and an input declared
`Annotated[pd.DataFrame, kwtypes(...)]` gets the subset too, as in flytekit. Column types are not checked or
cast (flytekit's pandas decoder does not either). This module never imports pandas at import time.
"""

from __future__ import annotations

import collections
import typing
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
            raise DefinitionError(
                f"StructuredDataset(uri={self.uri!r}) has no data here: a table reaches a task as a task input "
                f"or an artifact; read other stored files with FlyteFile")
        return select(self._dataframe, self._columns, "StructuredDataset")

    def iter(self) -> Iterator[Any]:
        yield self.all()

    def __repr__(self) -> str:
        shape = getattr(self._dataframe, "shape", None)
        return f"StructuredDataset(shape={shape}, uri={self.uri!r}, columns={self._columns})"


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
        if value.dataframe is None:
            raise TaskFailedError(
                f"{where}: StructuredDataset(uri={value.uri!r}) has no dataframe; return "
                f"StructuredDataset(dataframe=df) (tables are stored by this engine, as parquet)")
        value = value.dataframe
    if not (type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")):
        raise TaskFailedError(
            f"{where} is declared StructuredDataset but the task returned {type(value).__name__}; return "
            f"StructuredDataset(dataframe=df) or a pandas.DataFrame")
    return value
