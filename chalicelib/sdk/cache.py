"""flytekit's task cache, as values: `Cache`, `CachePolicy`, `VersionParameters`, `HashMethod`, and the one
rule that turns a task's keywords (and a node's overrides) into the cache settings its Task state carries.

    @task(cache=True, cache_version="1")                      flytekit's deprecated keywords
    @task(cache=Cache(version="1", serialize=True, ignored_inputs=("seed",)))
    @task(cache=True)                                         version from the function's source (see below)
    def t(df: Annotated[pd.DataFrame, HashMethod(fn)]) -> ...  input hashed by fn instead of its content

flytekit without a plugin refuses `cache=True` without a version ("at least one cache policy needs to be
set"); Union's default policy derives the version from the function body. Files written for Union must run
here, so `cache=True` alone takes the version from the function's source, and `Cache(policies=...)` runs the
given policies as flytekit does. Nothing here acts: the lookup happens in chalicelib.runtime.cache.
"""

from __future__ import annotations

import hashlib
import inspect
import typing
from typing import Any, Callable, Generic, Protocol, TypeVar, runtime_checkable

from msgspec import Struct, field

from chalicelib.errors import DefinitionError

T = TypeVar("T")
DEPRECATED = ("cache_version", "cache_serialize", "cache_ignore_input_vars")


class VersionParameters(Struct):
    """What a CachePolicy derives a version from (flytekit.core.cache.VersionParameters)."""

    func: Callable[..., Any]
    container_image: Any = None
    pod_template: Any = None
    pod_template_name: str | None = None


@runtime_checkable
class CachePolicy(Protocol):
    def get_version(self, salt: str, params: VersionParameters) -> str: ...


class CacheFunctionBody:
    """The default policy: the version is a hash of the function's source, so editing the body misses."""

    def get_version(self, salt: str, params: VersionParameters) -> str:
        try:
            source = inspect.getsource(params.func)
        except (OSError, TypeError) as exc:
            raise DefinitionError(
                f"cache=True without a version hashes the function's source, which cannot be read for "
                f"{getattr(params.func, '__qualname__', params.func)!r} ({exc}); give Cache(version='1')"
            ) from exc
        return hashlib.sha256((salt + source).encode()).hexdigest()


class Cache(Struct, dict=True):  # dict: what __post_init__ derives (_ignored, _policies)
    """flytekit's Cache: `version` (else derived by `policies`), `serialize` (one execution computes while
    identical ones wait for its result), `ignored_inputs` (left out of the key), `salt`, `policies`."""

    version: str | None = None
    serialize: bool = False
    ignored_inputs: tuple[str, ...] | str = ()
    salt: str = ""
    policies: list[CachePolicy] | CachePolicy | None = None

    def __post_init__(self) -> None:
        if self.version is not None and (not isinstance(self.version, str) or not self.version):
            raise DefinitionError(f"Cache(version=...) takes a non-empty string; got {self.version!r}")
        if not isinstance(self.serialize, bool):
            raise DefinitionError(f"Cache(serialize=...) takes True or False; got {self.serialize!r}")
        ignored = (self.ignored_inputs,) if isinstance(self.ignored_inputs, str) else self.ignored_inputs
        if not isinstance(ignored, (tuple, list)) or not all(isinstance(n, str) for n in ignored):
            raise DefinitionError(f"Cache(ignored_inputs=...) takes input names; got {self.ignored_inputs!r}")
        self._ignored = tuple(ignored)
        if self.policies is None:
            self._policies: list[Any] = [CacheFunctionBody()]
        elif isinstance(self.policies, CachePolicy):
            self._policies = [self.policies]
        elif isinstance(self.policies, list) and all(isinstance(p, CachePolicy) for p in self.policies):
            self._policies = list(self.policies)
        else:
            raise DefinitionError(f"Cache(policies=...) takes CachePolicy objects (with get_version(salt, params)); "
                                  f"got {self.policies!r}")
        if self.version is None and not self._policies:
            raise DefinitionError("Cache() without a version needs at least one policy; give Cache(version='1')")

    def get_ignored_inputs(self) -> tuple[str, ...]:
        return self._ignored

    def get_version(self, params: VersionParameters) -> str:
        if self.version is not None:
            return self.version
        joined = ""
        for policy in self._policies:
            try:
                joined += str(policy.get_version(self.salt, params))
            except DefinitionError:
                raise
            except Exception as exc:
                raise DefinitionError(f"cache policy {policy!r} failed to make a version ({exc}); "
                                      f"give Cache(version='1')") from exc
        return hashlib.sha256(joined.encode()).hexdigest()


class HashMethod(Generic[T]):
    """`Annotated[T, HashMethod(fn)]`: the value's cache hash is `fn(value)` (a string)."""

    def __init__(self, function: Callable[[T], str]) -> None:
        if not callable(function):
            raise DefinitionError(f"HashMethod takes a function of the value; got {function!r}")
        self._function = function

    def calculate(self, obj: T) -> str:
        return self._function(obj)


class CacheSettings(Struct, frozen=True):
    """What a cached node's Task state carries (`"cache"` in its Parameters): decided when compiled."""

    version: str
    serialize: bool = False
    ignored: tuple[str, ...] = field(default_factory=tuple)

    def to_param(self) -> dict[str, Any]:
        return {"version": self.version, "serialize": self.serialize, "ignored": list(self.ignored)}


def check_cache_options(task: str, options: dict[str, Any]) -> None:
    """At definition: the shapes of `cache=` and the deprecated keywords, as flytekit checks them."""
    cache = options.get("cache")
    if cache is not None and not isinstance(cache, (bool, Cache)):
        raise DefinitionError(f"task {task!r}: cache= takes True, False or Cache(version=...); got {cache!r}")
    version = options.get("cache_version")
    if version is not None and (not isinstance(version, str)):
        raise DefinitionError(f"task {task!r}: cache_version= takes a string; got {version!r}")
    serialize = options.get("cache_serialize")
    if serialize is not None and not isinstance(serialize, bool):
        raise DefinitionError(f"task {task!r}: cache_serialize= takes True or False; got {serialize!r}")
    ignored = options.get("cache_ignore_input_vars")
    if ignored is not None and (not isinstance(ignored, (tuple, list)) or not all(isinstance(n, str) for n in ignored)):
        raise DefinitionError(f"task {task!r}: cache_ignore_input_vars= takes a tuple of input names; got {ignored!r}")
    given = [k for k in DEPRECATED if options.get(k) is not None]
    if isinstance(cache, Cache) and given:
        raise DefinitionError(f"task {task!r}: {given[0]}= cannot be combined with cache=Cache(...); "
                              f"set it on the Cache object instead")
    if not cache and given and given != ["cache_version"]:
        raise DefinitionError(f"task {task!r}: {given[0]}= needs cache=True")


def settings_for(task: Any, overrides: dict[str, Any] | None = None) -> CacheSettings | None:
    """The cache settings of a task node, or None when it is not cached. `task` is a TaskDef; a node's
    `with_overrides(cache=...)` replaces the task's own `cache=` (flytekit: a Cache override needs a version)."""
    options = dict(task.options)
    where = f"task {task.short_name!r}"
    if overrides and "cache" in overrides:
        override = overrides["cache"]
        if isinstance(override, Cache) and override.version is None:
            raise DefinitionError(f"{where}: with_overrides(cache=Cache(...)) needs a version, as in flytekit; "
                                  f"give Cache(version='1')")
        options["cache"] = override
        if isinstance(override, Cache):
            for key in DEPRECATED:
                options.pop(key, None)
    cache = options.get("cache")
    if not cache:
        return None
    if cache is True and options.get("cache_version") is None:
        cache = Cache(serialize=bool(options.get("cache_serialize")),
                      ignored_inputs=tuple(options.get("cache_ignore_input_vars") or ()))
    if isinstance(cache, Cache):
        params = VersionParameters(func=task.fn, container_image=getattr(task, "container_image", None))
        settings = CacheSettings(cache.get_version(params), cache.serialize, cache.get_ignored_inputs())
    else:
        settings = CacheSettings(str(options["cache_version"]), bool(options.get("cache_serialize")),
                                 tuple(options.get("cache_ignore_input_vars") or ()))
    names = [i.name for i in task.inputs]
    unknown = [n for n in settings.ignored if n not in names]
    if unknown:
        raise DefinitionError(f"{where}: cache ignores input {unknown[0]!r}, which the task does not have; "
                              f"its inputs are {names}")
    return settings


def hash_methods(task: Any) -> dict[str, HashMethod[Any]]:
    """Inputs annotated `Annotated[T, HashMethod(fn)]`, by name, and the output's as "return" (read from
    the function's type hints)."""
    try:
        hints = typing.get_type_hints(task.fn, include_extras=True)
    except Exception:  # signature_of already refused unreadable hints at definition
        return {}
    found = {}
    for name, hint in hints.items():
        if typing.get_origin(hint) is typing.Annotated:
            for extra in typing.get_args(hint)[1:]:
                if isinstance(extra, HashMethod):
                    found[name] = extra
    return found


def signature_digest(task: Any) -> str:
    """flytekit: "changes to the task signature will automatically trigger a cache miss"."""
    text = repr([(i.name, repr(i.type)) for i in task.inputs]) + repr([(o.name, repr(o.type)) for o in task.outputs])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
