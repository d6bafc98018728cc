"""Artifact-triggered workflows on AWS serverless: the public SDK.

Importing this package makes no AWS call and does not import pandas.
"""

from __future__ import annotations

from chalicelib.errors import CascadeError
from chalicelib.sdk.aligned import OnArtifacts
from chalicelib.sdk.artifact import Artifact, ArtifactQuery, Inputs
from chalicelib.sdk.image import ImageSpec
from chalicelib.sdk.launch_plan import LaunchPlan, OnArtifact
from chalicelib.sdk.task import task
from chalicelib.sdk.timeparts import Granularity
from chalicelib.sdk.workflow import workflow

__all__ = [
    "Artifact",
    "ArtifactQuery",
    "CascadeError",
    "Granularity",
    "ImageSpec",
    "Inputs",
    "LaunchPlan",
    "OnArtifact",
    "OnArtifacts",
    "task",
    "workflow",
]
