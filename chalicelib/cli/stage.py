"""Which stage the operator commands talk to: a deployed one, or the local cloud server.

The stage's names come from the same `CASCADE_*` environment variables the deployed functions read
(`Settings.from_env`); `--endpoint-url` (or `AWS_ENDPOINT_URL`) points the clients at a local server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from chalicelib import aws
from chalicelib.config import ENV_PREFIX, Settings
from chalicelib.errors import StageConfigError

if TYPE_CHECKING:  # imported when used: every CLI command loads this module
    from chalicelib.store.index import ArtifactIndex
    from chalicelib.store.plans import LaunchPlanStore
    from chalicelib.store.registry import Registry
    from chalicelib.trigger.handler import Trigger


@dataclass
class Stage:
    """A stage's settings and clients; build one from a LocalCloud's clients in tests."""

    settings: Settings
    dynamodb: Any
    sfn: Any

    @property
    def registry(self) -> Registry:
        from chalicelib.store.registry import Registry

        return Registry(self.settings, self.dynamodb)

    @property
    def plans(self) -> LaunchPlanStore:
        from chalicelib.store.plans import LaunchPlanStore

        return LaunchPlanStore(self.registry)

    @property
    def index(self) -> ArtifactIndex:
        from chalicelib.store.index import ArtifactIndex

        return ArtifactIndex(self.dynamodb, self.settings.artifacts_table)

    def trigger(self) -> Trigger:
        """The trigger Lambda's own logic, so operator commands fire runs exactly as events do."""
        from chalicelib.trigger.align import Aligner
        from chalicelib.trigger.handler import Trigger

        return Trigger(self.registry, self.sfn, Aligner(self.index))


def from_env(endpoint_url: str | None = None) -> Stage:
    try:
        settings = Settings.from_env()
    except ValidationError as exc:
        missing = sorted(ENV_PREFIX + str(e["loc"][0]).upper() for e in exc.errors())
        raise StageConfigError(
            f"the stage is not configured: set {', '.join(missing)} (the deployed functions carry these in their "
            f"environment; the local cloud server prints them), and AWS credentials and region"
        ) from exc
    return Stage(settings, aws.client("dynamodb", settings.region, endpoint_url),
                 aws.client("stepfunctions", settings.region, endpoint_url))


endpoint_option = click.option(
    "--endpoint-url", default=None, metavar="URL",
    help="AWS endpoint, e.g. a local cloud server (default: AWS_ENDPOINT_URL, else AWS).",
)
