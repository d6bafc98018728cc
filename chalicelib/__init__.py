"""Artifact-triggered workflows on AWS serverless: the public SDK.

A flytekit or Union file runs after changing its imports to `from chalicelib import ...` (or
`import chalicelib as union`; `chalicelib.artifacts` mirrors `union.artifacts`). What each flytekit
construct means here is in README's compatibility table and in chalicelib.sdk.compat.

Importing this package makes no AWS call and does not import pandas. The names below are loaded on first
use, so the Lambda handlers, which import `chalicelib.<module>` but never the SDK, do not pay for it at
cold start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.errors import CascadeError
    from chalicelib.sdk.aligned import OnArtifacts
    from chalicelib.sdk.artifact import Artifact, ArtifactQuery, Inputs
    from chalicelib.sdk.cards import DataCard, ModelCard
    from chalicelib.sdk.compat import ActorEnvironment, Annotations, ContainerTask, BoxRenderer, ConcurrencyLimitBehavior, ConcurrencyPolicy, Deck, Description, Documentation, Echo,  FrameProfilingRenderer, ImageRenderer, Labels, MarkdownRenderer, PodTemplate, ShellTask, SourceCode, SourceCodeRenderer, TableRenderer, TopFrameRenderer, WorkflowFailurePolicy, approve, conditional, dynamic, eager, map_task, reference_launch_plan, reference_task, reference_workflow, sleep, wait_for_input
    from chalicelib.sdk.context import ExecutionParameters, FlyteContext, FlyteContextManager, SecretsManager, current_context
    from chalicelib.sdk.structured import StructuredDataset, kwtypes
    from chalicelib.sdk.options import Resources, Secret
    from chalicelib.sdk.cache import Cache, CachePolicy, HashMethod, VersionParameters
    from chalicelib.sdk.files import FlyteDirectory, FlyteFile
    from chalicelib.sdk.image import ImageSpec
    from chalicelib.sdk.launch_plan import LaunchPlan, OnArtifact
    from chalicelib.sdk.notifications import Email, PagerDuty, Slack, WorkflowExecutionPhase
    from chalicelib.sdk.schedules import CronSchedule, FixedRate
    from chalicelib.sdk.task import task
    from chalicelib.sdk.timeparts import Granularity
    from chalicelib.sdk.workflow import workflow
    from chalicelib import artifacts

# public name → the module that defines it (`artifacts` is the module `chalicelib.artifacts` itself)
_EXPORTS = {
    "ActorEnvironment": "chalicelib.sdk.compat",
    "Annotations": "chalicelib.sdk.compat",
    "approve": "chalicelib.sdk.compat",
    "Artifact": "chalicelib.sdk.artifact",
    "ArtifactQuery": "chalicelib.sdk.artifact",
    "artifacts": "chalicelib.artifacts",
    "CascadeError": "chalicelib.errors",
    "conditional": "chalicelib.sdk.compat",
    "ContainerTask": "chalicelib.sdk.compat",
    "CronSchedule": "chalicelib.sdk.schedules",
    "current_context": "chalicelib.sdk.context",
    "DataCard": "chalicelib.sdk.cards",
    "Deck": "chalicelib.sdk.compat",
    "dynamic": "chalicelib.sdk.compat",
    "eager": "chalicelib.sdk.compat",
    "Email": "chalicelib.sdk.notifications",
    "FixedRate": "chalicelib.sdk.schedules",
    "FlyteDirectory": "chalicelib.sdk.files",
    "FlyteFile": "chalicelib.sdk.files",
    "Granularity": "chalicelib.sdk.timeparts",
    "ImageSpec": "chalicelib.sdk.image",
    "Inputs": "chalicelib.sdk.artifact",
    "Labels": "chalicelib.sdk.compat",
    "LaunchPlan": "chalicelib.sdk.launch_plan",
    "map_task": "chalicelib.sdk.compat",
    "ModelCard": "chalicelib.sdk.cards",
    "OnArtifact": "chalicelib.sdk.launch_plan",
    "OnArtifacts": "chalicelib.sdk.aligned",
    "PagerDuty": "chalicelib.sdk.notifications",
    "reference_launch_plan": "chalicelib.sdk.compat",
    "reference_task": "chalicelib.sdk.compat",
    "reference_workflow": "chalicelib.sdk.compat",
    "Resources": "chalicelib.sdk.options",
    "Cache": "chalicelib.sdk.cache",
    "CachePolicy": "chalicelib.sdk.cache",
    "HashMethod": "chalicelib.sdk.cache",
    "VersionParameters": "chalicelib.sdk.cache",
    "Secret": "chalicelib.sdk.options",
    "ShellTask": "chalicelib.sdk.compat",
    "Slack": "chalicelib.sdk.notifications",
    "sleep": "chalicelib.sdk.compat",
    "StructuredDataset": "chalicelib.sdk.structured",
    "kwtypes": "chalicelib.sdk.structured",
    "Echo": "chalicelib.sdk.compat",
    "WorkflowFailurePolicy": "chalicelib.sdk.compat",
    "ConcurrencyLimitBehavior": "chalicelib.sdk.compat",
    "ConcurrencyPolicy": "chalicelib.sdk.compat",
    "Description": "chalicelib.sdk.compat",
    "SourceCode": "chalicelib.sdk.compat",
    "Documentation": "chalicelib.sdk.compat",
    "MarkdownRenderer": "chalicelib.sdk.compat",
    "BoxRenderer": "chalicelib.sdk.compat",
    "FrameProfilingRenderer": "chalicelib.sdk.compat",
    "ImageRenderer": "chalicelib.sdk.compat",
    "PodTemplate": "chalicelib.sdk.compat",
    "SourceCodeRenderer": "chalicelib.sdk.compat",
    "TableRenderer": "chalicelib.sdk.compat",
    "TopFrameRenderer": "chalicelib.sdk.compat",
    "ExecutionParameters": "chalicelib.sdk.context",
    "FlyteContext": "chalicelib.sdk.context",
    "FlyteContextManager": "chalicelib.sdk.context",
    "SecretsManager": "chalicelib.sdk.context",
    "task": "chalicelib.sdk.task",
    "wait_for_input": "chalicelib.sdk.compat",
    "workflow": "chalicelib.sdk.workflow",
    "WorkflowExecutionPhase": "chalicelib.sdk.notifications",
}

__all__ = [
    "ActorEnvironment",
    "Annotations",
    "Artifact",
    "ArtifactQuery",
    "Cache",
    "CachePolicy",
    "CascadeError",
    "ContainerTask",
    "CronSchedule",
    "DataCard",
    "Deck",
    "Email",
    "FixedRate",
    "FlyteDirectory",
    "FlyteFile",
    "Granularity",
    "HashMethod",
    "ImageSpec",
    "Inputs",
    "Labels",
    "LaunchPlan",
    "ModelCard",
    "OnArtifact",
    "OnArtifacts",
    "PagerDuty",
    "Resources",
    "Secret",
    "ShellTask",
    "Slack",
    "StructuredDataset",
    "kwtypes",
    "Echo",
    "WorkflowFailurePolicy",
    "ConcurrencyLimitBehavior",
    "ConcurrencyPolicy",
    "Description",
    "SourceCode",
    "Documentation",
    "MarkdownRenderer",
    "BoxRenderer",
    "FrameProfilingRenderer",
    "ImageRenderer",
    "PodTemplate",
    "SourceCodeRenderer",
    "TableRenderer",
    "TopFrameRenderer",
    "ExecutionParameters",
    "FlyteContext",
    "FlyteContextManager",
    "SecretsManager",
    "VersionParameters",
    "approve",
    "artifacts",
    "conditional",
    "current_context",
    "dynamic",
    "eager",
    "map_task",
    "reference_launch_plan",
    "reference_task",
    "reference_workflow",
    "sleep",
    "task",
    "wait_for_input",
    "workflow",
    "WorkflowExecutionPhase",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chalicelib' has no attribute {name!r}")
    value = import_module(module) if name == "artifacts" else getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
