"""`chalicelib.artifacts` mirrors `union.artifacts`: `from union.artifacts import OnArtifact, ModelCard`
becomes `from chalicelib.artifacts import OnArtifact, ModelCard`."""

from __future__ import annotations

from chalicelib.sdk.artifact import Artifact, ArtifactQuery, Inputs
from chalicelib.sdk.cards import DataCard, ModelCard
from chalicelib.sdk.launch_plan import OnArtifact
from chalicelib.sdk.timeparts import Granularity

__all__ = ["Artifact", "ArtifactQuery", "DataCard", "Granularity", "Inputs", "ModelCard", "OnArtifact"]
