"""Artifact-triggered workflows on AWS serverless: the public SDK.

A flytekit or Union file runs after changing its imports to `from chalicelib import ...` (or
`import chalicelib as union`; `chalicelib.artifacts` mirrors `union.artifacts`). What each flytekit
construct means here is in README's compatibility table and in chalicelib.sdk.compat.

Importing this package makes no AWS call and does not import pandas.
"""

from __future__ import annotations

from chalicelib.errors import CascadeError
from chalicelib.sdk.aligned import OnArtifacts
from chalicelib.sdk.artifact import Artifact, ArtifactQuery, Inputs
from chalicelib.sdk.cards import DataCard, ModelCard
from chalicelib.sdk.compat import (
    ActorEnvironment,
    Annotations,
    ContainerTask,
    CronSchedule,
    Deck,
    Email,
    FixedRate,
    Labels,
    PagerDuty,
    Resources,
    Secret,
    ShellTask,
    Slack,
    StructuredDataset,
    approve,
    conditional,
    dynamic,
    eager,
    map_task,
    reference_launch_plan,
    reference_task,
    reference_workflow,
    sleep,
    wait_for_input,
)
from chalicelib.sdk.context import current_context
from chalicelib.sdk.files import FlyteDirectory, FlyteFile
from chalicelib.sdk.image import ImageSpec
from chalicelib.sdk.launch_plan import LaunchPlan, OnArtifact
from chalicelib.sdk.task import task
from chalicelib.sdk.timeparts import Granularity
from chalicelib.sdk.workflow import workflow

from chalicelib import artifacts  # noqa: E402,F401  (`chalicelib.artifacts`, as `union.artifacts`)

__all__ = [
    "ActorEnvironment",
    "Annotations",
    "Artifact",
    "ArtifactQuery",
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
]
