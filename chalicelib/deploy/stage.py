"""One deployed stage: its names and ARNs, derived from the infra stack's outputs.

Chalice names every function `<app>-<stage>-<name>`; the template names its resources with the same prefix.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from chalicelib.config import ENV_PREFIX, Settings
from chalicelib.deploy.errors import DeployError
from chalicelib.deploy.stack import StackOutputs

APP_NAME = "cascade"
TASK_RUNNER = "task_runner"
TRIGGER = "on_artifact_event"
UPLOAD = "on_upload"
# chalice's REST API function (app routes: the lineage page and /api): named `<app>-<stage>`, without a suffix
API = "api_handler"


class StageInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    app_name: str
    stage: str
    region: str
    account: str
    partition: str
    outputs: StackOutputs

    @classmethod
    def from_outputs(cls, app_name: str, stage: str, region: str, outputs: StackOutputs) -> StageInfo:
        # arn:<partition>:iam::<account>:role/<name>
        parts = outputs.states_role_arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or not parts[4]:
            raise DeployError(f"stack output StatesRoleArn {outputs.states_role_arn!r} is not an IAM role ARN")
        return cls(app_name=app_name, stage=stage, region=region, account=parts[4], partition=parts[1],
                   outputs=outputs)

    @property
    def prefix(self) -> str:
        return f"{self.app_name}-{self.stage}-"

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def function_name(self, name: str) -> str:
        return self.prefix.rstrip("-") if name == API else f"{self.prefix}{name}"

    def function_arn(self, name: str) -> str:
        return self.arn("lambda", f"function:{self.function_name(name)}")

    def table_arn(self, table: str) -> str:
        return self.arn("dynamodb", f"table/{table}")

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.outputs.bucket}"

    def log_group_arn(self, function: str) -> str:
        return self.arn("logs", f"log-group:/aws/lambda/{self.function_name(function)}")

    @property
    def state_machines_arn(self) -> str:
        """Every state machine registration creates for this stage (names start with the stage prefix)."""
        return self.arn("states", f"stateMachine:{self.prefix}*")

    @property
    def tasks_layer_name(self) -> str:
        return f"{self.prefix}tasks"

    def settings(self, task_runner_arn: str | None = None) -> Settings:
        """The Settings the stage's functions run with (and registration compiles against)."""
        values = {
            "app_name": self.app_name,
            "stage": self.stage,
            "region": self.region,
            "bucket": self.outputs.bucket,
            "artifacts_table": self.outputs.artifacts_table,
            "registry_table": self.outputs.registry_table,
            "index_table": self.outputs.index_table,
            "task_runner_arn": task_runner_arn or self.function_arn(TASK_RUNNER),
            # Read by other modules when present in Settings; ignored otherwise.
            "trigger_dlq_url": self.outputs.trigger_dlq_url,
            "trigger_dlq_arn": self.outputs.trigger_dlq_arn,
        }
        return Settings(**{k: v for k, v in values.items() if k in Settings.model_fields})

    def environment(self) -> dict[str, str]:
        """Lambda environment variables for the stage: the settings we derived, plus the stream ARN that
        app.py's `on_dynamodb_record` reads when chalice loads the app."""
        env = {f"{ENV_PREFIX}{k.upper()}": str(v) for k, v in self.settings().model_dump(exclude_unset=True).items()}
        env[f"{ENV_PREFIX}ARTIFACTS_STREAM_ARN"] = self.outputs.artifacts_stream_arn
        return env
