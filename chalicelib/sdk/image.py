"""ImageSpec: flytekit's keywords, all accepted. Tasks run in the deployment's zip-packaged Lambda, not in a
container image, so an ImageSpec builds nothing. At registration:

* `packages` (and the lines of a `requirements` file) are checked against the deployment's requirements.txt;
  each one that is missing or pinned differently is a warning naming the task, the package and the version
  the deployment provides (see chalicelib.ops.register);
* keywords that only mean something for a container image (`apt_packages`, `registry`, `base_image`, `cuda`,
  `conda_packages`, ...) are reported in one warning per image: they cannot apply to a zip Lambda.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import DefinitionError

# Keywords that describe how to build a container; none can apply to a zip-packaged Lambda function.
CONTAINER_ONLY = (
    "registry", "builder", "base_image", "apt_packages", "conda_packages", "conda_channels", "cuda", "cudnn",
    "platform", "pip_index", "pip_extra_index_url", "pip_secret_mounts", "pip_extra_args", "registry_config",
    "entrypoint", "commands", "tag_format", "source_root", "source_copy_mode", "copy", "python_exec", "env",
    "builder_options",
)


def _strings(owner: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise DefinitionError(f"ImageSpec {owner!r}: {key} must be a list of strings; got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class ImageSpec:
    """`ImageSpec(packages=["pandas==2.2.3"], registry=..., apt_packages=[...], ...)` as in flytekit."""

    name: str = "flytekit"
    python_version: str | None = None
    builder: str | None = None
    source_root: str | None = None
    env: dict[str, str] | None = None
    registry: str | None = None
    packages: tuple[str, ...] = ()
    conda_packages: tuple[str, ...] = ()
    conda_channels: tuple[str, ...] = ()
    requirements: str | None = None
    apt_packages: tuple[str, ...] = ()
    cuda: str | None = None
    cudnn: str | None = None
    base_image: Any = None
    platform: str = "linux/amd64"
    pip_index: str | None = None
    pip_extra_index_url: tuple[str, ...] = ()
    pip_secret_mounts: Any = None
    pip_extra_args: str | None = None
    registry_config: str | None = None
    entrypoint: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    tag_format: str | None = None
    source_copy_mode: Any = None
    copy: tuple[str, ...] = ()
    python_exec: str | None = None
    builder_options: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keywords newer flytekit versions may add

    def __init__(self, name: str = "flytekit", python_version: str | None = None, builder: str | None = None,
                 source_root: str | None = None, env: dict[str, str] | None = None, registry: str | None = None,
                 packages: Any = None, conda_packages: Any = None, conda_channels: Any = None,
                 requirements: str | None = None, apt_packages: Any = None, cuda: str | None = None,
                 cudnn: str | None = None, base_image: Any = None, platform: str = "linux/amd64",
                 pip_index: str | None = None, pip_extra_index_url: Any = None, pip_secret_mounts: Any = None,
                 pip_extra_args: str | None = None, registry_config: str | None = None, entrypoint: Any = None,
                 commands: Any = None, tag_format: str | None = None, source_copy_mode: Any = None,
                 copy: Any = None, python_exec: str | None = None, builder_options: dict[str, Any] | None = None,
                 **extra: Any) -> None:
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"ImageSpec name must be a non-empty string; got {name!r}")
        set_ = object.__setattr__
        set_(self, "name", name.lower())
        for key, value in (("python_version", python_version), ("builder", builder), ("source_root", source_root),
                           ("env", env), ("registry", registry.lower() if isinstance(registry, str) else registry),
                           ("requirements", requirements), ("cuda", cuda), ("cudnn", cudnn),
                           ("base_image", base_image), ("platform", platform), ("pip_index", pip_index),
                           ("pip_secret_mounts", pip_secret_mounts), ("pip_extra_args", pip_extra_args),
                           ("registry_config", registry_config), ("tag_format", tag_format),
                           ("source_copy_mode", source_copy_mode), ("python_exec", python_exec),
                           ("builder_options", builder_options)):
            set_(self, key, value)
        for key, value in (("packages", packages), ("conda_packages", conda_packages),
                           ("conda_channels", conda_channels), ("apt_packages", apt_packages),
                           ("pip_extra_index_url", pip_extra_index_url), ("entrypoint", entrypoint),
                           ("commands", commands), ("copy", copy)):
            set_(self, key, _strings(name, key, value))
        set_(self, "extra", dict(extra))

    # -- flytekit's methods -----------------------------------------------------------------------
    def _replace(self, **changes: Any) -> ImageSpec:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        values.update(changes)
        return ImageSpec(**values, **self.extra)

    def _more(self, key: str, values: Any) -> ImageSpec:
        return self._replace(**{key: [*getattr(self, key), *_strings(self.name, key, values)]})

    def with_packages(self, packages: Any) -> ImageSpec:
        return self._more("packages", packages)

    def with_apt_packages(self, apt_packages: Any) -> ImageSpec:
        return self._more("apt_packages", apt_packages)

    def with_commands(self, commands: Any) -> ImageSpec:
        return self._more("commands", commands)

    def with_copy(self, src: Any) -> ImageSpec:
        return self._more("copy", src)

    def force_push(self) -> ImageSpec:
        return self

    def with_runtime_packages(self, runtime_packages: Any) -> ImageSpec:
        """flytekit installs these when the container starts; here they are reported like other container-only
        keywords (the deployment's requirements are what the task runs with)."""
        more = [*self.extra.get("runtime_packages", ()), *_strings(self.name, "runtime_packages", runtime_packages)]
        return ImageSpec(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"},
                         **{**self.extra, "runtime_packages": more})

    def with_builder_options(self, builder_options: dict[str, Any]) -> ImageSpec:
        if not isinstance(builder_options, dict):
            raise DefinitionError(f"ImageSpec {self.name!r}: builder_options must be a dict; got {builder_options!r}")
        return self._replace(builder_options={**(self.builder_options or {}), **builder_options})

    @classmethod
    def from_env(cls, *, pinned_packages: list[str] | None = None, **kwargs: Any) -> ImageSpec:
        """The running interpreter's Python version, with `pinned_packages` pinned to their installed versions."""
        from importlib.metadata import version

        packages = list(kwargs.pop("packages", None) or [])
        packages += [f"{p}=={version(p)}" for p in pinned_packages or []]
        return cls(packages=packages, python_version=f"{sys.version_info.major}.{sys.version_info.minor}", **kwargs)

    @property
    def id(self) -> str:
        doc = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def tag(self) -> str:
        return self.tag_format.format(spec_hash=self.id) if self.tag_format else self.id

    def image_name(self) -> str:
        name = f"{self.name}:{self.tag}"
        return f"{self.registry}/{name}" if self.registry else name

    def is_container(self) -> bool:
        """True: guarded imports (`if image.is_container(): import x`) run, as inside flytekit's container."""
        return True

    def exist(self) -> bool:
        return True

    def container_only(self) -> dict[str, Any]:
        """The keywords given that only mean something for a container image (reported at registration)."""
        given = {k: getattr(self, k) for k in CONTAINER_ONLY if getattr(self, k, None) not in (None, (), {}, "")}
        if given.get("platform") == "linux/amd64":
            given.pop("platform")
        return {**given, **self.extra}
