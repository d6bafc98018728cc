"""Where things live: names of the bucket, tables and functions, read from the environment when asked."""

from __future__ import annotations

import os

from pydantic import BaseModel

from chalicelib.naming import APP_NAME, StackOutputs, prefix

ENV_PREFIX = "CASCADE_"
DEFAULT_REGION = "us-east-1"


def region(given: str | None = None) -> str:
    """The one rule for the region: `given` (a `--region` option), else AWS_REGION, else AWS_DEFAULT_REGION,
    else the AWS profile's region, else us-east-1. Lambda always sets AWS_REGION, so functions read no profile."""
    if given:
        return given
    found = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if found:
        return found
    import boto3  # off Lambda only: a profile may name the region

    return boto3.session.Session().region_name or DEFAULT_REGION


class Settings(BaseModel):
    """Stage settings. In Lambda they come from `.chalice/config.json` environment variables."""

    app_name: str = APP_NAME
    stage: str = "dev"
    bucket: str
    artifacts_table: str
    registry_table: str
    index_table: str
    task_runner_arn: str = ""
    trigger_dlq_url: str = ""
    upload_dlq_url: str = ""
    region: str = "us-east-1"
    max_inline_bytes: int = 32 * 1024
    max_upload_bytes: int = 512 * 1024 * 1024

    @classmethod
    def from_env(cls) -> Settings:
        values = {
            field: os.environ[ENV_PREFIX + field.upper()]
            for field in cls.model_fields
            if ENV_PREFIX + field.upper() in os.environ
        }
        values.setdefault("region", region())
        return cls(**values)

    @classmethod
    def from_outputs(cls, stage: str, region_name: str, outputs: StackOutputs, task_runner_arn: str = "",
                     app_name: str = APP_NAME) -> Settings:
        """The settings a stage's functions run with, from its infra stack's outputs."""
        return cls(app_name=app_name, stage=stage, region=region_name, bucket=outputs.bucket,
                   artifacts_table=outputs.artifacts_table, registry_table=outputs.registry_table,
                   index_table=outputs.index_table, task_runner_arn=task_runner_arn,
                   trigger_dlq_url=outputs.trigger_dlq_url, upload_dlq_url=outputs.upload_dlq_url)

    @property
    def prefix(self) -> str:
        """Prefix of every resource name of this stage, as chalice names functions: `<app>-<stage>-`."""
        return prefix(self.stage, self.app_name)

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + k.upper(): str(v) for k, v in self.model_dump().items()}
