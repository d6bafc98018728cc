"""Artifact-triggered workflows on AWS serverless: the public SDK.

Importing this package makes no AWS call and does not import pandas. The names below are loaded on first
use, so the Lambda handlers, which import `chalicelib.<module>` but never the SDK, do not pay for it at
cold start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.errors import CascadeError
    from chalicelib.sdk.artifact import Artifact, ArtifactQuery, Inputs
    from chalicelib.sdk.image import ImageSpec
    from chalicelib.sdk.launch_plan import LaunchPlan, OnArtifact
    from chalicelib.sdk.task import task
    from chalicelib.sdk.timeparts import Granularity
    from chalicelib.sdk.workflow import workflow

_EXPORTS = {
    "Artifact": "chalicelib.sdk.artifact",
    "ArtifactQuery": "chalicelib.sdk.artifact",
    "CascadeError": "chalicelib.errors",
    "Granularity": "chalicelib.sdk.timeparts",
    "ImageSpec": "chalicelib.sdk.image",
    "Inputs": "chalicelib.sdk.artifact",
    "LaunchPlan": "chalicelib.sdk.launch_plan",
    "OnArtifact": "chalicelib.sdk.launch_plan",
    "task": "chalicelib.sdk.task",
    "workflow": "chalicelib.sdk.workflow",
}

__all__ = [
    "Artifact",
    "ArtifactQuery",
    "CascadeError",
    "Granularity",
    "ImageSpec",
    "Inputs",
    "LaunchPlan",
    "OnArtifact",
    "task",
    "workflow",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chalicelib' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
