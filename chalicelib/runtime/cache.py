"""The task cache in the task runner: before a cached node runs, look its key up; after, store its result.

The key is a digest of (task module and name, its signature, the cache version, the inputs' hashes). An
input is hashed by what it is, not where it lives: an artifact input by its name and version id, a value
passed by reference (a DataFrame under runs/, a file, a directory) by its stored content's ETag(s), or by
`HashMethod(fn)` on its annotation when given; plain values by their canonical JSON. Ignored inputs are left
out. A hit returns the stored result with `"cached": true` (and where it came from) without running the task:
its artifact outputs are the versions the first run made, none is published again.

`cache_serialize`: the first execution to miss takes a reservation (a conditional put that expires after the
task's timeout); the others poll for the entry, within their own invocation, and compute themselves only if
the holder's reservation is gone without an entry (it failed or died) or their wait ran out.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Callable

from msgspec import Struct, field

from chalicelib import logs
from chalicelib.errors import CascadeError
from chalicelib.events.task import TaskEvent
from chalicelib.sdk import cache as sdk_cache, literals
from chalicelib.sdk.options import LAMBDA_MAX_SECONDS, task_timeout
from chalicelib.store.cache import CacheEntry, CacheStore

log = logs.get_logger("task_runner")
RESERVATION_MARGIN_SECONDS = 30


class CacheKeyError(CascadeError):
    """A cached task's input cannot be hashed into its cache key."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def literal_hash(literal: Any, tag_of: Callable[[str], str], where: str) -> Any:
    """What stands for an input literal in the key (JSON): references by what they point at."""
    if isinstance(literal, list):
        return [literal_hash(v, tag_of, f"{where}[{i}]") for i, v in enumerate(literal)]
    if isinstance(literal, dict) and len(literal) == 1:
        tag, body = next(iter(literal.items()))
        if tag == "$artifact" and isinstance(body, dict):
            return {"artifact": [body.get("name"), body.get("version")]}
        if tag == "$ref" and isinstance(body, dict) and isinstance(body.get("hash"), str):
            return {"hash": body["hash"]}  # the producing task's HashMethod (TaskCache.hashed_output)
        if tag in ("$ref", "$file", "$dir") and isinstance(body, dict) and isinstance(body.get("uri"), str):
            uri = body["uri"] if tag != "$dir" or body["uri"].endswith("/") else body["uri"] + "/"
            return {tag[1:]: [body.get("format") or body.get("name"), tag_of(uri)]}
        if tag == "$query":
            raise CacheKeyError(f"{where}: an artifact query reached the cache unresolved")
    if isinstance(literal, dict):
        return {k: literal_hash(v, tag_of, f"{where}.{k}") for k, v in literal.items()}
    return literal


def cache_key(task: Any, version: str, hashes: dict[str, Any]) -> str:
    """The entry's key: pure, from the task, its cache version and its inputs' hashes."""
    text = _canonical([task.name, sdk_cache.signature_digest(task), version, hashes])
    return hashlib.sha256(text.encode()).hexdigest()


class Slot(Struct):
    """One cached node's lookup: the stored result (`hit`), or the key to store under once computed."""

    cache: TaskCache | None
    task: str = ""
    key: str = ""
    version: str = ""
    holder: str = ""
    reserved: bool = False
    hit: dict[str, Any] | None = None
    event: TaskEvent | None = None

    def run(self, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Compute the result and store it; a failure gives the reservation back to the executions waiting."""
        if self.cache is None:
            return compute()
        try:
            result = compute()
        except BaseException:
            if self.reserved:
                self.cache.store.release(self.task, self.key, self.holder)
            raise
        return self.cache.keep(self, result)


class TaskCache:
    def __init__(self, store: CacheStore, materialize: Callable[[Any, Any], Any],
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 poll_seconds: float = 0.2, max_poll_seconds: float = 2.0,
                 note: Callable[[str, str, list[str]], None] | None = None) -> None:
        self.store = store
        self.note = note  # (execution, node, lines): where a hit is told in the execution's task logs
        self.materialize = materialize  # (literal, type hint) → the task's value, for HashMethod inputs
        self.clock, self.sleep = clock, sleep
        self.poll_seconds, self.max_poll_seconds = poll_seconds, max_poll_seconds

    def hashes(self, task: Any, bound: dict[str, Any], ignored: tuple[str, ...]) -> dict[str, Any]:
        methods = {k: v for k, v in sdk_cache.hash_methods(task).items() if k != "return"}
        hints = {i.name: i.type for i in task.inputs}
        defaults = {i.name: i.default for i in task.inputs if i.has_default}
        out: dict[str, Any] = {}
        for name in sorted({*bound, *defaults}):
            if name in ignored:
                continue
            where = f"task {task.short_name!r} input {name!r}"
            if name not in bound:  # a default: part of the key, so changing it misses
                try:
                    out[name] = {"default": literals.encode(defaults[name], where)}
                except CascadeError:
                    out[name] = {"default": repr(defaults[name])}
                continue
            if name in methods:
                value = self.materialize(bound[name], hints.get(name))
                try:
                    digest = methods[name].calculate(value)
                except Exception as exc:
                    raise CacheKeyError(f"{where}: its HashMethod function raised {type(exc).__name__}: {exc}") from exc
                if not isinstance(digest, str):
                    raise CacheKeyError(f"{where}: its HashMethod function returned {type(digest).__name__}; "
                                        f"it must return a str")
                out[name] = {"hash": digest}
                continue
            try:
                out[name] = literal_hash(bound[name], self.store.content_tag, where)
            except CacheKeyError:
                raise
            except Exception as exc:
                raise CacheKeyError(f"{where} cannot be hashed for the cache ({type(exc).__name__}: {exc}); "
                                    f"annotate it Annotated[T, HashMethod(fn)] or list it in ignored_inputs") from exc
        try:
            _canonical(out)
        except (TypeError, ValueError) as exc:
            raise CacheKeyError(f"task {task.short_name!r}: inputs cannot be hashed for the cache: {exc}") from exc
        return out

    def hashed_output(self, task: Any, value: Any, literal: Any) -> Any:
        """A task output passed by reference, with its hash when the task's return annotation has
        `HashMethod(fn)` (flytekit's way: the producer hashes, a cached consumer keys on that hash)."""
        method = sdk_cache.hash_methods(task).get("return")
        if method is None or not (isinstance(literal, dict) and set(literal) == {"$ref"}):
            return literal
        try:
            digest = method.calculate(value)
        except Exception as exc:
            raise CacheKeyError(f"task {task.short_name!r} output: its HashMethod function raised "
                                f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(digest, str):
            raise CacheKeyError(f"task {task.short_name!r} output: its HashMethod function returned "
                                f"{type(digest).__name__}; it must return a str")
        return {"$ref": {**literal["$ref"], "hash": digest}}

    def lookup(self, event: TaskEvent, task: Any, bound: dict[str, Any]) -> Slot:
        """The node's slot: a hit, or a miss to compute (holding the reservation when serialized)."""
        if not event.cache:
            return Slot(None)
        settings = sdk_cache.CacheSettings(str(event.cache["version"]), bool(event.cache.get("serialize")),
                                           tuple(event.cache.get("ignored") or ()))
        key = cache_key(task, settings.version, self.hashes(task, bound, settings.ignored))
        slot = Slot(self, task=task.name, key=key, version=settings.version,
                    holder=f"{event.execution_id}#{event.node}", event=event)
        if self._hit(slot):
            return slot
        if not settings.serialize:
            return slot
        hold = float(task_timeout(task.options) or LAMBDA_MAX_SECONDS) + RESERVATION_MARGIN_SECONDS
        deadline = self.clock() + hold + 2 * self.max_poll_seconds + 1  # past the holder's expiry: take over
        pause = self.poll_seconds
        while True:
            if self.store.reserve(slot.task, key, slot.holder, hold, self.clock()):
                slot.reserved = True
                if self._hit(slot):  # stored between our lookup and the reservation
                    self.store.release(slot.task, key, slot.holder)
                    slot.reserved = False
                return slot
            if self.clock() >= deadline:
                log.warning("cache reservation still held; computing", extra={"cache_key": key})
                return slot
            self.sleep(pause)
            pause = min(pause * 1.5, self.max_poll_seconds)
            if self._hit(slot):
                return slot

    def _hit(self, slot: Slot) -> bool:
        entry = self.store.get(slot.task, slot.key, self.clock())
        if entry is None:
            return False
        slot.hit = _reused(entry)
        log.info("cache hit", extra={"cache_key": slot.key, "cached_from": entry.execution})
        if slot.event is not None:
            self.store.record_hit(slot.event.execution_id, slot.event.node, entry, self.clock())
            if self.note is not None:
                self.note(slot.event.execution_id, slot.event.node, [
                    f"[cache hit] {slot.event.node} {entry.task}: outputs of execution "
                    f"{entry.execution.rsplit(':', 1)[-1]} ({entry.node}, cache version {entry.version!r}) reused; "
                    f"the task did not run"])
        return True

    def keep(self, slot: Slot, result: dict[str, Any]) -> dict[str, Any]:
        """Store a computed result; if another execution stored first, its result is the one returned (so a
        cached artifact output has one version)."""
        event = slot.event
        if event is None:
            return result
        try:
            if not self.store.fits(result):
                log.warning("result too large to cache", extra={"cache_key": slot.key})
                return result
            entry = self.store.put(slot.task, slot.key, slot.version, result, event.execution_id, event.node,
                                   self.clock())
        finally:
            if slot.reserved:
                self.store.release(slot.task, slot.key, slot.holder)
        if entry.execution != event.execution_id or entry.node != event.node:
            return _reused(entry)
        return result


def _reused(entry: CacheEntry) -> dict[str, Any]:
    return {**entry.result, "cached": True,
            "cached_from": {"execution": entry.execution, "node": entry.node, "version": entry.version}}
