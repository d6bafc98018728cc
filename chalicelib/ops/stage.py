"""The stage an operator command talks to, and how it is found. One rule for every command (views, upload,
uploads, launchplan, replay, dlq, gc):

* The stage is `--stage NAME`, else CASCADE_STAGE, else `local` (the server of `python -m chalicelib local`).
* Resource names come from the CASCADE_* variables when CASCADE_BUCKET is set for that stage (the functions
  carry them; the in-process local cloud sets them), else from the outputs of the stage's infra stack
  `cascade-<stage>-infra` (what `make deploy` and the local server create).
* The endpoint is `--endpoint-url`, else AWS_ENDPOINT_URL; for the stage `local` found through its stack,
  `http://127.0.0.1:4566` with dummy credentials (the local cloud checks none).
* The region is chalicelib.config.region's rule.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from msgspec import Struct
from pydantic import ValidationError

from chalicelib import aws, naming
from chalicelib.config import ENV_PREFIX, Settings, region
from chalicelib.errors import CascadeError

if TYPE_CHECKING:  # imported when used: every CLI command loads this module
    from chalicelib.store.artifacts import ArtifactStore
    from chalicelib.store.plans import LaunchPlanStore
    from chalicelib.store.registry import Registry
    from chalicelib.trigger.handler import Trigger

LOCAL_STAGE = "local"
LOCAL_ENDPOINT = "http://127.0.0.1:4566"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class StageNotFoundError(CascadeError):
    """The stage's resources could not be found."""


class Stage(Struct):
    """A stage's settings, and the endpoint its clients use (None: AWS itself). Build one from a local
    cloud's settings in tests: `Stage(cloud.settings)`."""

    settings: Settings
    endpoint_url: str | None = None

    def client(self, service: str) -> Any:
        return aws.client(service, self.settings.region, self.endpoint_url)

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def store(self) -> ArtifactStore:
        from chalicelib.store.artifacts import ArtifactStore

        return ArtifactStore(self.settings, self.s3, self.dynamodb)

    @property
    def registry(self) -> Registry:
        from chalicelib.store.registry import Registry

        return Registry(self.settings, self.dynamodb)

    @property
    def plans(self) -> LaunchPlanStore:
        from chalicelib.store.plans import LaunchPlanStore

        return LaunchPlanStore(self.registry)

    def trigger(self) -> Trigger:
        """The trigger Lambda's own logic, so operator commands fire runs exactly as events do."""
        from chalicelib.trigger.handler import Trigger

        return Trigger.of(self.settings, self.dynamodb, self.sfn)


def check_listening(endpoint_url: str) -> None:
    url = urlparse(endpoint_url)
    try:
        socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=2).close()
    except OSError as exc:
        raise StageNotFoundError(
            f"nothing listens at {endpoint_url} ({exc.strerror or exc}); start the local cloud with "
            f"`python -m chalicelib local`, or pass --endpoint-url"
        ) from exc


def from_stack(stage: str, endpoint_url: str | None) -> Settings:
    where_region = region()
    cfn = aws.client("cloudformation", where_region, endpoint_url)
    stack = naming.stack_name(stage)
    try:
        desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as exc:
        where = f"at {endpoint_url}" if endpoint_url else f"in AWS region {where_region}"
        hint = ("start it with `python -m chalicelib local`" if stage == LOCAL_STAGE
                else f"deploy it with `make deploy STAGE={stage}`, or set CASCADE_BUCKET, CASCADE_ARTIFACTS_TABLE, "
                     f"CASCADE_REGISTRY_TABLE and CASCADE_INDEX_TABLE")
        raise StageNotFoundError(f"cannot find stage {stage!r} {where} (stack {stack!r}: {exc}); {hint}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
    missing = naming.StackOutputs.missing(outputs)
    if missing:
        raise StageNotFoundError(f"stack {stack!r} has no output(s) {missing}; deploy the stage again to update it")
    return Settings.from_outputs(stage, where_region, naming.StackOutputs.from_outputs(outputs))


def resolve(stage: str | None = None, endpoint_url: str | None = None) -> Stage:
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    env_stage = os.environ.get(ENV_PREFIX + "STAGE")
    if os.environ.get(ENV_PREFIX + "BUCKET") and stage in (None, env_stage):
        try:
            return Stage(Settings.from_env(), endpoint_url)
        except ValidationError as exc:
            missing = sorted(ENV_PREFIX + str(e["loc"][0]).upper() for e in exc.errors())
            raise StageNotFoundError(f"CASCADE_BUCKET is set but not {', '.join(missing)}; set them too") from exc
    stage = stage or env_stage or LOCAL_STAGE
    if stage == LOCAL_STAGE:
        endpoint_url = endpoint_url or LOCAL_ENDPOINT
        for key, value in DUMMY_CREDENTIALS.items():
            os.environ.setdefault(key, value)
    if endpoint_url:
        check_listening(endpoint_url)
    return Stage(from_stack(stage, endpoint_url), endpoint_url)
