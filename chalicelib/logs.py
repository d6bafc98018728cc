"""Structured JSON logs (powertools Logger), one line per event, carrying correlation ids.

Correlation ids: `artifact`, `version`, `launch_plan`, `execution` (the Step Functions execution name), plus
`event_id`/`sequence_number` for stream records and `workflow`/`node` in the task runner. Keys appended with
`correlated(...)` are per thread (the local cloud runs many handlers in one process) and removed on exit.
Lines go to stdout in Lambda (CloudWatch) and to stderr in any other process, e.g. a CLI running a handler's
code in-process, whose stdout is for its own output (see chalicelib.capture).
"""

from __future__ import annotations

import functools
import io
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Iterator, TypeVar

from aws_lambda_powertools import Logger

F = TypeVar("F", bound=Callable[..., Any])


class _LogStream(io.TextIOBase):
    """Where handler log lines go, decided at each write (chalicelib.capture.write_log): into the per-thread
    capture when one is installed (locally each invocation's lines stay with that invocation), else stdout in
    Lambda (CloudWatch) and stderr in any other process (a CLI's stdout holds only its output)."""

    def write(self, text: str) -> int:
        from chalicelib import capture

        return capture.write_log(text)

    def flush(self) -> None:
        from chalicelib import capture

        capture.log_sink().flush()


@lru_cache(maxsize=None)
def get_logger(service: str) -> Logger:
    """The one Logger of `service` (powertools shares handlers between Loggers of one service name)."""
    return Logger(service=service, stream=_LogStream(), utc=True)


@contextmanager
def correlated(logger: Logger, **keys: Any) -> Iterator[None]:
    """Add `keys` (those not None) to every line this thread logs inside the block."""
    present = {k: v for k, v in keys.items() if v is not None}
    logger.thread_safe_append_keys(**present)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(list(present))


def add_keys(logger: Logger, **keys: Any) -> None:
    """Add keys to this thread's lines until the enclosing `per_record` (or `correlated`) block ends."""
    logger.thread_safe_append_keys(**{k: v for k, v in keys.items() if v is not None})


def per_record(logger: Logger, keys: Callable[[Any], dict[str, Any]], failed: str) -> Callable[[F], F]:
    """Decorate a record handler `(self, record)`: its lines carry `keys(record)` and whatever it adds with
    `add_keys`; an exception leaving it is logged once as `failed` (with those keys), then re-raised."""
    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def handler(self: Any, record: Any, *args: Any, **kwargs: Any) -> Any:
            before = set(logger.thread_safe_get_current_keys())
            logger.thread_safe_append_keys(**{k: v for k, v in keys(record).items() if v is not None})
            try:
                with failure_logged(logger, failed):
                    return fn(self, record, *args, **kwargs)
            finally:
                logger.thread_safe_remove_keys(list(set(logger.thread_safe_get_current_keys()) - before))
        return handler  # type: ignore[return-value]
    return wrap


@contextmanager
def failure_logged(logger: Logger, message: str) -> Iterator[None]:
    """Log an exception leaving the block as one error line (once, at the innermost such block), re-raise it."""
    try:
        yield
    except Exception as exc:
        if not getattr(exc, "_cascade_logged", False):
            logger.exception(message, extra=error_fields(exc))  # with the traceback, as `exception`
            try:
                exc._cascade_logged = True  # type: ignore[attr-defined]
            except AttributeError:
                pass
        raise


def error_fields(exc: BaseException) -> dict[str, Any]:
    """How a failure is logged: our error class (or the AWS error code) and its message."""
    from chalicelib.aws import error_code

    return {"error_type": type(exc).__name__, "error_code": error_code(exc) or None, "error": str(exc)[:2000]}
