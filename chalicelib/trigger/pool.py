"""Bounded threads for one trigger invocation: records of different items, and the starts of one record, at once.

The trigger's time is spent waiting on AWS (a Query, a conditional PutItem, a StartExecution per launch
plan, each a network round trip); boto3 clients are thread-safe, so a batch's calls can overlap. Threads are
per invocation and end with it, so nothing runs while the function is idle and a nested invocation (the local
cloud delivers stream records in the writing thread) never waits on its caller's threads.

A task runs with its caller's context: its context variables (the batch's subscription answers, the log
keys of the record) and its output captures (chalicelib.capture), as if the caller ran it.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, Callable, Iterable, TypeVar

from chalicelib import capture, logs
from chalicelib.errors import CascadeError

# botocore keeps 10 connections per client (Config.max_pool_connections); more threads than that on one client
# would open connections only to discard them. Records use the DynamoDB client, starts the Step Functions one.
MAX_WORKERS = 10

T = TypeVar("T")
R = TypeVar("R")
Outcome = tuple[Any, BaseException | None]  # (result, None) or (None, the exception it raised)
_origin: ContextVar[int | None] = ContextVar("pool_origin_thread", default=None)


def origin_thread() -> int:
    """The thread this work is done for: the thread that handed it to a pool (transitively), else this one."""
    return _origin.get() or threading.get_ident()


def _outcome(fn: Callable[[T], R], item: T) -> Outcome:
    try:
        return fn(item), None
    except Exception as exc:
        return None, exc


class Pool:
    """`map(fn, items)` runs `fn` on each item, at most `max_workers` at a time, and returns every outcome in
    item order. With max_workers=1 (or one item) it runs inline, in the caller's thread, one after another."""

    def __init__(self, max_workers: int = MAX_WORKERS, name: str = "trigger") -> None:
        if max_workers < 1:
            raise CascadeError(f"max_workers must be at least 1; got {max_workers}: use 1 to handle records one by one")
        self.max_workers = max_workers
        self.name = name
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()  # records of one batch share the starts pool and may create it at once

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[Outcome]:
        items = list(items)
        if self.max_workers == 1 or len(items) <= 1:
            return [_outcome(fn, item) for item in items]
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix=self.name)
            executor = self._executor
        frames = capture.frames()
        origin = origin_thread()
        context = contextvars.copy_context()
        futures = [executor.submit(_as_caller, context.copy(), frames, origin, fn, item) for item in items]
        return [f.result() for f in futures]


def _as_caller(context: contextvars.Context, frames: list[Any], origin: int, fn: Callable[[T], R],
               item: T) -> Outcome:
    with capture.joined(frames):
        return context.run(_fresh_keys_then, origin, fn, item)


def _fresh_keys_then(origin: int, fn: Callable[[T], R], item: T) -> Outcome:
    _origin.set(origin)
    # powertools removes log keys from its context dict in place: give this task a dict of its own first, so
    # removing a key here does not remove it from the caller's (or a sibling task's) lines.
    logs.get_logger("trigger").thread_safe_append_keys()
    return _outcome(fn, item)
