"""ImageSpec: accepted for compatibility with flytekit. Tasks run in the deployment's Lambda package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImageSpec:
    """Every flytekit keyword is accepted. Only `packages` and `requirements` are read, at registration,
    to warn when the deployment's requirements do not provide them."""

    name: str = "default"
    packages: tuple[str, ...] = ()
    requirements: str | None = None
    python_version: str | None = None
    registry: str | None = None
    builder: str | None = None
    apt_packages: tuple[str, ...] = ()
    base_image: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __init__(self, name: str = "default", *, packages: Any = (), requirements: str | None = None,
                 python_version: str | None = None, registry: str | None = None, builder: str | None = None,
                 apt_packages: Any = (), base_image: Any = None, **extra: Any) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "packages", tuple(packages or ()))
        object.__setattr__(self, "requirements", requirements)
        object.__setattr__(self, "python_version", python_version)
        object.__setattr__(self, "registry", registry)
        object.__setattr__(self, "builder", builder)
        object.__setattr__(self, "apt_packages", tuple(apt_packages or ()))
        object.__setattr__(self, "base_image", base_image)
        object.__setattr__(self, "extra", dict(extra))

    def with_packages(self, packages: Any) -> ImageSpec:
        return ImageSpec(self.name, packages=[*self.packages, *packages], requirements=self.requirements,
                         python_version=self.python_version, registry=self.registry, builder=self.builder,
                         apt_packages=self.apt_packages, base_image=self.base_image, **self.extra)
