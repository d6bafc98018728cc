"""Where things live: names of the bucket, tables and functions, read from the environment when asked."""

from __future__ import annotations

import os

from msgspec import Struct
from msgspec.structs import fields, force_setattr

from chalicelib import checks
from chalicelib.errors import StageConfigError
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


SETTINGS_FIX = (f"set it in the function's environment ({ENV_PREFIX}<FIELD>, which `python -m chalicelib deploy` "
                f"writes from the infra stack's outputs), or deploy the stage again")


class Settings(Struct, frozen=True, kw_only=True):
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

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value, where = getattr(self, name), f"setting {name!r} ({ENV_PREFIX}{name.upper()})"
            if name in _NUMBERS:
                force_setattr(self, name, checks.integer(value, where, StageConfigError, SETTINGS_FIX))
            else:
                checks.text(value, where, StageConfigError, SETTINGS_FIX)

    @classmethod
    def from_env(cls) -> Settings:
        values = {name: os.environ[ENV_PREFIX + name.upper()] for name in cls.__struct_fields__
                  if ENV_PREFIX + name.upper() in os.environ}
        missing = [ENV_PREFIX + f.name.upper() for f in fields(cls) if f.required and f.name not in values]
        if missing:
            raise StageConfigError(f"the environment lacks {', '.join(missing)}; {SETTINGS_FIX}")
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

    def to_env(self, exclude: tuple[str, ...] = ()) -> dict[str, str]:
        """The environment variables that `from_env` reads back (without the fields in `exclude`)."""
        return {ENV_PREFIX + name.upper(): str(getattr(self, name)) for name in self.__struct_fields__
                if name not in exclude}


_NUMBERS = frozenset(f.name for f in fields(Settings) if f.type is int)
