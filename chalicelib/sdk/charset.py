"""The charset rules that keep user-supplied names out of S3 key and DynamoDB key syntax.

Names (artifacts, partition keys, workflows, launch plans) and partition values become parts of S3 keys
(`artifacts/<name>/<key>=<value>/...`) and of DynamoDB keys, which join them with `#`, `|` and `,`. So they may
not contain `/`, `=`, `#`, `|`, `,`, NUL or any control character, nor be `..`; and together they must leave
a data key within S3's 1024-byte limit. Every rule is a whole-string match (a trailing newline is refused).
"""

from __future__ import annotations

import re
from typing import Mapping

from chalicelib.errors import InvalidNameError

# Names: identifiers with dots and dashes.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
# Partition values: no '/', '=', '#', '|', ',', control characters, nor '..' (S3 key and DynamoDB key syntax).
_VALUE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9 _.:@+~-]{0,255}")
# Version ids as stored (`20261125T151728123Z-0a1b2c3d4e`), checked when read back from an event.
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")

NAME_RULE = "1-128 characters: letters, digits, '_', '.', '-', starting with a letter or '_'"
VALUE_RULE = "1-256 characters: letters, digits, space and _ . : @ + ~ -, starting with a letter, digit or '_', no '..'"
# Room left in an S3 key (1024 bytes) after `artifacts/`, the time partition segment and `<version>.parquet`.
MAX_PARTITION_CHARS = 900


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidNameError(f"{kind} name {name!r} is not allowed; use {NAME_RULE}")
    return name


def check_value(artifact: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidNameError(
            f"artifact {artifact!r} partition {key!r} must be a string; got {type(value).__name__} {value!r}"
        )
    if not _VALUE.fullmatch(value) or ".." in value or value != value.strip():
        raise InvalidNameError(
            f"artifact {artifact!r} partition {key}={value!r} is not allowed; use {VALUE_RULE}"
        )
    return value


def check_partition_size(artifact: str, partitions: Mapping[str, str]) -> None:
    """Name plus every `key=value` must stay within MAX_PARTITION_CHARS, so storage keys stay valid."""
    size = len(artifact) + sum(len(k) + len(v) + 2 for k, v in partitions.items())
    if size > MAX_PARTITION_CHARS:
        raise InvalidNameError(
            f"artifact {artifact!r}: its name and partitions take {size} characters in storage keys; "
            f"keep them within {MAX_PARTITION_CHARS} (S3 keys stop at 1024 bytes): use shorter partition values"
        )


def check_version(version: object) -> str:
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise InvalidNameError(
            f"version {str(version)[:140]!r} is not allowed; versions are 1-128 letters, digits, '_', '.', ':', '-'"
        )
    return version
