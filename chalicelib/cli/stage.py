"""The `--stage` and `--endpoint-url` options every command that talks to a stage shares, and the operator
commands' view of a stage. How a stage is found is in chalicelib.stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import click
from chalicelib.config import Settings
from chalicelib.stage import resolve

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

        return ArtifactIndex.of(self.dynamodb, self.settings)

    def trigger(self) -> Trigger:
        """The trigger Lambda's own logic, so operator commands fire runs exactly as events do."""
        from chalicelib.trigger.align import Aligner
        from chalicelib.trigger.handler import Trigger

        return Trigger(self.registry, self.sfn, Aligner(self.index))


def from_env(endpoint_url: str | None = None, stage: str | None = None) -> Stage:
    target = resolve(stage, endpoint_url)
    return Stage(target.settings, target.client("dynamodb"), target.client("stepfunctions"))


def stage_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--stage NAME` and `--endpoint-url URL` (see chalicelib.stage for the defaults)."""
    fn = click.option("--endpoint-url", default=None, metavar="URL",
                      help="AWS endpoint (default: AWS_ENDPOINT_URL; for stage 'local', http://127.0.0.1:4566).")(fn)
    return click.option("--stage", default=None, metavar="NAME",
                        help="Stage (default: CASCADE_STAGE, else 'local', the local cloud server).")(fn)
