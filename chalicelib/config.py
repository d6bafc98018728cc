"""Where things live: names of the bucket, tables and functions, read from the environment when asked."""

from __future__ import annotations

import os

from pydantic import BaseModel

ENV_PREFIX = "CASCADE_"


class Settings(BaseModel):
    """Stage settings. In Lambda they come from `.chalice/config.json` environment variables."""

    app_name: str = "cascade"
    stage: str = "dev"
    bucket: str
    artifacts_table: str
    registry_table: str
    index_table: str
    task_runner_arn: str = ""
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
        values.setdefault("region", os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
        return cls(**values)

    @property
    def prefix(self) -> str:
        """Prefix of every resource name of this stage, as chalice names functions: `<app>-<stage>-`."""
        return f"{self.app_name}-{self.stage}-"

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + k.upper(): str(v) for k, v in self.model_dump().items()}
