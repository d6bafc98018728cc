"""Reading across write shards: the newest item of N keys, and N sorted Queries merged into one.

Every artifact key is written on one of chalicelib.store.models.VERSION_SHARDS shards (the models module
says why), so a reader asks every shard. "Latest" asks the N keys at once, on a small pool of threads
shared by the process (boto3 clients are thread-safe, and a Query is a network round trip), and keeps the
greatest sort key; a listing pages through the N keys lazily and merges them in sort-key order, so a
`limit` still reads about `limit` items per shard at most. Shard reads only Query: a pool thread never
writes, so it never waits on anything that needs the pool.
"""

from __future__ import annotations

import heapq
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator, TypeVar

from chalicelib.store.models import VERSION_SHARDS

T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:  # created on first use, never at import
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=VERSION_SHARDS, thread_name_prefix="store-shards")
        return _pool


def each(read: Callable[[str], T], keys: list[str]) -> list[T]:
    """`read(key)` for every key, concurrently; the results in the order of `keys` (the first error raises)."""
    if len(keys) <= 1:
        return [read(k) for k in keys]
    return list(_executor().map(read, keys))


def newest(items: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The item with the greatest sort key among the shards' answers (None where a shard has none)."""
    found = [i for i in items if i is not None]
    return max(found, key=lambda i: i["sk"]) if found else None


def merged(streams: list[Iterator[dict[str, Any]]], descending: bool) -> Iterator[dict[str, Any]]:
    """The shards' items, each stream already in sort-key order, as one stream in that order. An item on two
    shards (a version written both before and after write shards) comes once."""
    last = None
    for item in heapq.merge(*streams, key=lambda i: i["sk"], reverse=descending):
        if item["sk"] != last:
            yield item
        last = item["sk"]
