"""Which launch plans listen to an artifact: one consistent Query per artifact per stream batch.

Inside `one_batch()`, the first record of an artifact queries the registry and later records of the same
artifact in that batch reuse the answer; outside it, every call queries. Nothing is kept between invocations.

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

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from chalicelib.store.models import Subscription

_batch: ContextVar[dict[str, list[Subscription]] | None] = ContextVar("subscriptions_batch", default=None)


@contextmanager
def one_batch() -> Iterator[None]:
    """Scope of one stream batch (one invocation): each artifact's subscriptions are read at most once."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def subscriptions_for(registry: Any, artifact: str) -> list[Subscription]:
    """Every launch plan listening to `artifact`, active or not (`registry.subscriptions_for`, one Query)."""
    seen = _batch.get()
    if seen is None:
        return registry.subscriptions_for(artifact)
    if artifact not in seen:
        seen[artifact] = registry.subscriptions_for(artifact)
    return seen[artifact]
