"""Which launch plans listen to an artifact: one consistent Query per artifact per stream batch.

Inside `one_batch()`, the first record of an artifact queries the registry and later records of the same
artifact in that batch reuse the answer; outside it, every call queries. Records handled concurrently share the
answers (the second record of an artifact waits for the first one's Query). Nothing is kept between invocations.

Why this is as fresh as a Query per record: Lambda reads a batch from the stream before invoking the
function, so every record of the batch was written before the batch's first lookup ran. A launch plan
deactivated before a version was written is therefore already inactive in the lookup that version sees.

Why there is no cache across invocations (in a warm container): to honour a deactivation at the next event,
a cached answer must be revalidated per batch, e.g. with a GetItem of a counter that every registration bumps.
That is one call per batch, the same as the Query it replaces, and it is only right if every writer of a
subscription bumps the counter. It saves calls only for batches that mix artifacts, and read units when an
artifact has very many subscriptions; not worth a second source of truth today.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from chalicelib.store.models import Subscription


class _Answers:
    """The subscriptions read in one batch, by artifact; records handled concurrently share it (one Query each)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.found: dict[str, list[Subscription]] = {}
        self.reading: dict[str, threading.Lock] = {}


_batch: ContextVar[_Answers | None] = ContextVar("subscriptions_batch", default=None)


@contextmanager
def one_batch() -> Iterator[None]:
    """Scope of one stream batch (one invocation): each artifact's subscriptions are read at most once."""
    token = _batch.set(_Answers())
    try:
        yield
    finally:
        _batch.reset(token)


def subscriptions_for(registry: Any, artifact: str) -> list[Subscription]:
    """Every launch plan listening to `artifact`, active or not (`registry.subscriptions_for`, one Query)."""
    seen = _batch.get()
    if seen is None:
        return registry.subscriptions_for(artifact)
    with seen.lock:
        if artifact in seen.found:
            return seen.found[artifact]
        reading = seen.reading.setdefault(artifact, threading.Lock())
    with reading:  # a second record of the artifact waits for the first one's Query instead of sending its own
        with seen.lock:
            if artifact in seen.found:
                return seen.found[artifact]
        answer = registry.subscriptions_for(artifact)  # if it fails, the next record of the artifact asks again
        with seen.lock:
            seen.found[artifact] = answer
        return answer
