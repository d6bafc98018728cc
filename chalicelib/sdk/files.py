"""FlyteFile and FlyteDirectory: files that cross between tasks by reference, through S3.

* A task that returns a file (or a directory) has it uploaded to S3 when the task finishes; the next task
  receives a reference, never the bytes.
* On the consuming side `.path` is a local path: the object is downloaded on first access into the task's
  working directory (`current_context().working_directory`). `.remote_source` is the `s3://` URI.
* A file can be an artifact: `-> Annotated[FlyteFile, Report]`. The version's data object is the file itself,
  at `artifacts/<name>/<k>=<v>/.../<version>/<file name>` (a directory: every file under that prefix).

Literals (see chalicelib.sdk.literals): `{"$file": {"uri": ..., "name": ...}}` and `{"$dir": {"uri": ...}}`.
A file that only exists locally (a path on the machine that defined the workflow) is `file://...`: the local
cloud reads it in place; in AWS pass an `s3://` URI instead.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

from chalicelib.errors import ArtifactError, DefinitionError

FILE_TAG, DIR_TAG = "$file", "$dir"
FORMATS = ("file", "dir")


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _default_s3() -> Any:
    from chalicelib import aws
    from chalicelib.config import Settings

    return aws.client("s3", Settings.from_env().region)


def _scratch(kind: str, uri: str) -> Path:
    from chalicelib.sdk.context import current_context

    digest = hashlib.sha256(uri.encode()).hexdigest()[:12]
    path = Path(current_context().working_directory) / "inputs" / f"{kind}-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Remote:
    """Shared by files and directories: a local path, a remote URI, or both."""

    extension_name: str = ""

    def __init__(self, path: str | os.PathLike[str], remote_path: str | None = None, **_flyte: Any) -> None:
        text = os.fspath(path)
        self._local: str | None = None
        self._remote: str | None = None
        self._s3: Any = None
        self._foreign = text.startswith("file://")  # a path on the machine that defined or started the run
        if text.startswith("s3://"):
            self._remote = text
        elif text.startswith("file://"):
            self._local = unquote(urlparse(text).path)
        elif "://" in text:
            raise DefinitionError(
                f"{type(self).__name__}({text!r}): only s3:// URIs and local paths are supported here"
            )
        else:
            self._local = text
        if remote_path is not None:
            if not str(remote_path).startswith("s3://"):
                raise DefinitionError(f"{type(self).__name__}(remote_path={remote_path!r}): give an s3:// URI")
            self._remote_target = str(remote_path)
        else:
            self._remote_target = None

    # -- flytekit's surface ---------------------------------------------------------------------
    @property
    def remote_source(self) -> str | None:
        """The s3:// URI this value was received from or uploaded to (None for a local file not yet uploaded)."""
        return self._remote

    @property
    def remote_path(self) -> str | None:
        return self._remote or self._remote_target

    @property
    def downloaded(self) -> bool:
        return self._local is not None

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self._local or self._remote or ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(local={self._local!r}, remote={self._remote!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Remote):
            return NotImplemented
        if self._remote and other._remote:
            return self._remote == other._remote
        return (self._local, self._remote) == (other._local, other._remote)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._remote or self._local))

    def download(self) -> str:
        return self.path

    @property
    def path(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- plumbing used by the store --------------------------------------------------------------
    def bind_client(self, s3: Any) -> None:
        self._s3 = s3

    @property
    def local_source(self) -> str | None:
        """The local path this value was made from or downloaded to (None: only in S3 so far)."""
        return self._local

    def placed(self, uri: str, s3: Any) -> None:
        """Record that the value now also lives at `uri` (after the store uploaded it)."""
        self._remote = uri
        self._s3 = s3

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = _default_s3()
        return self._s3


class FlyteFile(_Remote):
    """A file passed by reference. `FlyteFile["csv"]` (or `FlyteFile[typing.TypeVar("csv")]`) names a format."""

    def __class_getitem__(cls, fmt: Any) -> type[FlyteFile]:
        name = getattr(fmt, "__name__", fmt)
        name = str(name).lstrip(".")
        return type(f"FlyteFile_{name}", (cls,), {"extension_name": name})

    @classmethod
    def extension(cls) -> str:
        return cls.extension_name

    @classmethod
    def new_remote_file(cls, name: str | None = None, alt: str | None = None) -> FlyteFile:
        """A new local file in the working directory; it is uploaded when the task returns it."""
        from chalicelib.sdk.context import current_context

        base = Path(current_context().working_directory) / "outputs"
        base.mkdir(parents=True, exist_ok=True)
        target = base / (name or f"file-{os.urandom(6).hex()}")
        target.touch()
        return cls(str(target))

    @classmethod
    def from_source(cls, source: str | os.PathLike[str]) -> FlyteFile:
        return cls(source)

    @property
    def path(self) -> str:
        if self._foreign and self._remote is None and not os.path.exists(self._local or ""):
            raise ArtifactError(
                f"file {self._local!r} does not exist here; a local path only works on the machine that has it "
                f"(and in the local cloud). Pass an s3:// URI, or return the file from a task so it is uploaded"
            )
        if self._local is None:
            assert self._remote is not None
            bucket, key = _split_s3(self._remote)
            target = _scratch("file", self._remote) / (posixpath.basename(key) or "file")
            try:
                self._client().download_file(bucket, key, str(target))
            except Exception as exc:
                raise ArtifactError(f"cannot download {self._remote}: {exc}") from exc
            self._local = str(target)
        return self._local

    def open(self, mode: str = "rb", **kwargs: Any) -> Any:
        return open(self.path, mode, **kwargs)

    @property
    def name(self) -> str:
        return posixpath.basename(_split_s3(self._remote)[1]) if self._remote else os.path.basename(self._local or "")

    def to_literal(self) -> dict[str, Any]:
        if self._remote is None:
            return {FILE_TAG: {"uri": Path(self._local or "").resolve().as_uri(), "name": self.name}}
        return {FILE_TAG: {"uri": self._remote, "name": self.name}}


class FlyteDirectory(_Remote):
    """A directory passed by reference: every file under an S3 prefix."""

    def __class_getitem__(cls, fmt: Any) -> type[FlyteDirectory]:
        return cls

    @classmethod
    def new_remote(cls, name: str | None = None) -> FlyteDirectory:
        """A new local directory in the working directory; it is uploaded when the task returns it."""
        from chalicelib.sdk.context import current_context

        target = Path(current_context().working_directory) / "outputs" / (name or f"dir-{os.urandom(6).hex()}")
        target.mkdir(parents=True, exist_ok=True)
        return cls(str(target))

    @classmethod
    def from_source(cls, source: str | os.PathLike[str]) -> FlyteDirectory:
        return cls(source)

    def _prefix(self) -> tuple[str, str]:
        assert self._remote is not None
        bucket, key = _split_s3(self._remote)
        return bucket, key if not key or key.endswith("/") else key + "/"

    @property
    def path(self) -> str:
        if self._local is None:
            bucket, prefix = self._prefix()
            target = _scratch("dir", self._remote or "")
            s3 = self._client()
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    rel = obj["Key"][len(prefix):]
                    if not rel or rel.endswith("/"):
                        continue
                    dest = target / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    s3.download_file(bucket, obj["Key"], str(dest))
            self._local = str(target)
        return self._local

    def listdir(self) -> list[FlyteFile]:
        """The files in this directory (recursively), as FlyteFiles; downloads nothing."""
        if self._local is not None and self._remote is None:
            return [FlyteFile(str(p)) for p in sorted(Path(self._local).rglob("*")) if p.is_file()]
        bucket, prefix = self._prefix()
        out = []
        for page in self._client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    ff = FlyteFile(f"s3://{bucket}/{obj['Key']}")
                    ff.bind_client(self._client())
                    out.append(ff)
        return out

    def crawl(self) -> Iterator[tuple[str, str]]:
        """(base, relative path) of every file, as flytekit's crawl()."""
        base = self.path
        for p in sorted(Path(base).rglob("*")):
            if p.is_file():
                yield base, str(p.relative_to(base))

    def new_file(self, name: str) -> FlyteFile:
        target = Path(self.path) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
        return FlyteFile(str(target))

    def new_dir(self, name: str) -> FlyteDirectory:
        target = Path(self.path) / name
        target.mkdir(parents=True, exist_ok=True)
        return FlyteDirectory(str(target))

    def to_literal(self) -> dict[str, Any]:
        if self._remote is None:
            return {DIR_TAG: {"uri": Path(self._local or "").resolve().as_uri()}}
        return {DIR_TAG: {"uri": self._remote}}


# -- used by the task runner -------------------------------------------------------------------------------
def is_file_value(value: Any) -> bool:
    return isinstance(value, _Remote)


def is_file_type(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, _Remote)


def from_literal(literal: dict[str, Any], s3: Any = None) -> FlyteFile | FlyteDirectory:
    """`{"$file": ...}` / `{"$dir": ...}` (or an artifact reference with format file/dir) → a lazy object."""
    tag, body = next(iter(literal.items()))
    cls: type[_Remote] = FlyteFile if tag == FILE_TAG or body.get("format") == "file" else FlyteDirectory
    value = cls(body["uri"])
    if s3 is not None:
        value.bind_client(s3)
    return value  # type: ignore[return-value]


def is_file_literal(literal: Any) -> bool:
    if not isinstance(literal, dict) or len(literal) != 1:
        return False
    tag, body = next(iter(literal.items()))
    if tag in (FILE_TAG, DIR_TAG):
        return True
    return tag in ("$ref", "$artifact") and isinstance(body, dict) and body.get("format") in FORMATS
