"""Checks for the plain classes that take outside data (a DynamoDB item, a stream record, the environment).

The Lambda functions' classes are msgspec Structs, not pydantic models (whose import and schema building
would take most of a cold start) nor stdlib dataclasses (which compile about six methods per class at import,
about 1 ms each class), so the classes that read outside data check it here. Each check returns the
value (converted where the stored form differs: ISO text to a datetime, text to an int) or raises `error`
with a message that names the value, where it came from (`where`) and what to do (`fix`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from chalicelib.errors import CascadeError

Error = type[CascadeError]


def _fail(error: Error, where: str, expected: str, value: Any, fix: str) -> CascadeError:
    shown = repr(value)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    return error(f"{where} must be {expected}; got {shown} ({type(value).__name__}){'; ' + fix if fix else ''}")


def text(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> str:
    if not isinstance(value, str):
        raise _fail(error, where, "text", value, fix)
    return value


def optional_text(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> str | None:
    return None if value is None else text(value, where, error, fix)


def flag(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> bool:
    if not isinstance(value, bool):
        raise _fail(error, where, "true or false", value, fix)
    return value


def integer(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> int:
    """An int, or its decimal text (environment variables); never a bool or a float."""
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise _fail(error, where, "a whole number", value, fix) from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(error, where, "a whole number", value, fix)
    return value


def document(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> dict[str, Any]:
    """A dict with text keys (its values are not looked at); a copy, so the caller's dict stays its own."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _fail(error, where, "a mapping with text keys", value, fix)
    return dict(value)


def optional_document(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> dict[str, Any] | None:
    return None if value is None else document(value, where, error, fix)


def text_map(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> dict[str, str]:
    """A dict of text to text (partitions, filters)."""
    found = document(value, where, error, fix)
    if not all(isinstance(v, str) for v in found.values()):
        raise _fail(error, where, "a mapping of text to text", value, fix)
    return found


def records(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> list[dict[str, Any]]:
    """A list of dicts with text keys."""
    if not isinstance(value, list):
        raise _fail(error, where, "a list of mappings", value, fix)
    return [document(v, f"{where}[{i}]", error, fix) for i, v in enumerate(value)]


def timestamp(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> datetime:
    """A datetime, or its ISO 8601 text as stored (`2026-11-24T13:00:00.123Z`)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            pass
    raise _fail(error, where, "an ISO 8601 time (e.g. 2026-11-24T13:00:00Z)", value, fix)


def optional_timestamp(value: Any, where: str, error: Error = CascadeError, fix: str = "") -> datetime | None:
    return None if value is None else timestamp(value, where, error, fix)


def one_of(value: Any, allowed: tuple[str, ...], where: str, error: Error = CascadeError, fix: str = "") -> str:
    if value not in allowed:
        raise _fail(error, where, f"one of {', '.join(allowed)}", value, fix)
    return value


def fields(data: Any, known: tuple[str, ...], required: tuple[str, ...], where: str, error: Error = CascadeError,
           fix: str = "") -> dict[str, Any]:
    """The `known` keys of a dict (others are ignored, as stored items carry keys of their own); raises if
    one of `required` is missing."""
    found = document(data, where, error, fix)
    lacking = [k for k in required if k not in found]
    if lacking:
        raise error(f"{where} lacks {', '.join(repr(k) for k in lacking)}{'; ' + fix if fix else ''}")
    return {k: found[k] for k in known if k in found}
