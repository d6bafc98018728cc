"""Placing FlyteFile and FlyteDirectory values in the bucket: as an artifact version's data, or as a task
output passed by reference (under runs/). Existing objects are never overwritten, so a retried task finds
its objects in place; a file already in S3 is copied server-side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from chalicelib.aws import error_code
from chalicelib.errors import ArtifactError
from chalicelib.sdk.files import FlyteDirectory, FlyteFile, is_file_value
from chalicelib.store.layout import split_uri

GONE = ("404", "NoSuchKey", "NotFound")


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except Exception as exc:
        if error_code(exc) in GONE:
            return False
        raise


def _local_path(value: Any) -> str:
    local = value.local_source
    if local is None or not os.path.exists(local):
        raise ArtifactError(f"{type(value).__name__} {local!r} does not exist; write the file before returning it")
    return local


def place(value: FlyteFile | FlyteDirectory, s3: Any, bucket: str, prefix: str) -> tuple[str, str]:
    """Put a file at `<prefix><file name>` or a directory's files under `prefix` (which ends in '/').

    Returns (uri, format): the file's URI and "file", or the prefix's URI and "dir"."""
    in_s3 = value.remote_source is not None and value.local_source is None
    if isinstance(value, FlyteFile):
        key = f"{prefix}{value.name or 'file'}"
        if not _exists(s3, bucket, key):
            if in_s3:
                src_bucket, src_key = split_uri(value.remote_source or "")
                s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": src_bucket, "Key": src_key})
            else:
                local = value.path
                if os.path.isdir(local):
                    raise ArtifactError(f"FlyteFile {local!r} is a directory; return a FlyteDirectory instead")
                s3.upload_file(local, bucket, key)
        return f"s3://{bucket}/{key}", "file"
    if in_s3:
        src_bucket, src_prefix = split_uri(value.remote_source or "")
        src_prefix = src_prefix if not src_prefix or src_prefix.endswith("/") else src_prefix + "/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=src_bucket, Prefix=src_prefix):
            for obj in page.get("Contents", []):
                dest = prefix + obj["Key"][len(src_prefix):]
                if not obj["Key"].endswith("/") and not _exists(s3, bucket, dest):
                    s3.copy_object(Bucket=bucket, Key=dest, CopySource={"Bucket": src_bucket, "Key": obj["Key"]})
    else:
        local = _local_path(value)
        if not os.path.isdir(local):
            raise ArtifactError(f"FlyteDirectory {local!r} is not a directory")
        for p in sorted(Path(local).rglob("*")):
            if p.is_file():
                dest = prefix + p.relative_to(local).as_posix()
                if not _exists(s3, bucket, dest):
                    s3.upload_file(str(p), bucket, dest)
    return f"s3://{bucket}/{prefix}", "dir"


def upload_local(value: Any, s3: Any, bucket: str, prefix: str) -> Any:
    """Give every local file or directory inside `value` (lists and dicts too) a remote source, each under
    its own numbered sub-prefix of `prefix`; values already in S3 stay where they are."""
    counter = iter(range(1_000_000))

    def walk(v: Any) -> None:
        if is_file_value(v):
            if v.remote_source is None:
                _local_path(v)
                uri, _ = place(v, s3, bucket, f"{prefix}{next(counter)}/")
                v.placed(uri, s3)
        elif isinstance(v, (list, tuple)):
            for item in v:
                walk(item)
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)

    walk(value)
    return value
