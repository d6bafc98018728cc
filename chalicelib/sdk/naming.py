"""The charset rules that keep user-supplied names out of S3 key and DynamoDB key syntax."""

from __future__ import annotations

import re

from chalicelib.errors import InvalidNameError

# Names (artifacts, partition keys, workflows, launch plans): identifiers with dots and dashes.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
# Partition values: no '/', '=', '#', '|', control characters, nor '..' (S3 key and DynamoDB key syntax).
_VALUE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9 _.:@+~-]{0,255}$")

NAME_RULE = "1-128 characters: letters, digits, '_', '.', '-', starting with a letter or '_'"
VALUE_RULE = "1-256 characters: letters, digits, space and _ . : @ + ~ -, starting with a letter, digit or '_', no '..'"


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidNameError(f"{kind} name {name!r} is not allowed; use {NAME_RULE}")
    return name


def check_value(artifact: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidNameError(
            f"artifact {artifact!r} partition {key!r} must be a string; got {type(value).__name__} {value!r}"
        )
    if not _VALUE.match(value) or ".." in value or value != value.strip():
        raise InvalidNameError(
            f"artifact {artifact!r} partition {key}={value!r} is not allowed; use {VALUE_RULE}"
        )
    return value
