"""The ARNs of one deployed stage, for IAM policies and registration: names (chalice.naming) placed in the
stack's account, partition and region."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from chalicelib import naming
from chalicelib.config import ENV_PREFIX, Settings
from chalicelib.deploy.errors import DeployError
from chalicelib.naming import TASK_RUNNER, StackOutputs

# Not written to the environment: the functions use the size limits' defaults (Settings).
DEFAULT_LIMITS = ("max_inline_bytes", "max_upload_bytes")
# pydantic (still imported by the task runner, the upload and schedule handlers; never by the trigger) looks
# for plugins in every installed distribution's entry points when it builds its first model, about 45 ms of a
# cold start; the functions have none.
PYDANTIC_ENV = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}


class StageArns(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)  # outputs: a plain Struct

    app_name: str
    stage: str
    region: str
    account: str
    partition: str
    outputs: StackOutputs

    @classmethod
    def from_outputs(cls, app_name: str, stage: str, region: str, outputs: StackOutputs) -> StageArns:
        # arn:<partition>:iam::<account>:role/<name>
        parts = outputs.states_role_arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or not parts[4]:
            raise DeployError(f"stack output StatesRoleArn {outputs.states_role_arn!r} is not an IAM role ARN")
        return cls(app_name=app_name, stage=stage, region=region, account=parts[4], partition=parts[1],
                   outputs=outputs)

    @property
    def prefix(self) -> str:
        return naming.prefix(self.stage, self.app_name)

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def function_name(self, name: str) -> str:
        return naming.function_name(self.stage, name, self.app_name)

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
    def task_runner_alias_arn(self) -> str:
        """The task runner's alias (naming.TASK_RUNNER_ALIAS), which the stack moves to each published version."""
        return f"{self.function_arn(TASK_RUNNER)}:{naming.TASK_RUNNER_ALIAS}"

    @property
    def tasks_layer_name(self) -> str:
        return naming.tasks_layer_name(self.stage, self.app_name)

    def settings(self, task_runner_arn: str | None = None) -> Settings:
        """The Settings the stage's functions run with (and registration compiles against)."""
        return Settings.from_outputs(self.stage, self.region, self.outputs,
                                            task_runner_arn or self.function_arn(TASK_RUNNER), self.app_name)

    def environment(self) -> dict[str, str]:
        """Lambda environment variables for the stage: the settings we derived, plus the stream ARN that
        app.py's `on_dynamodb_record` reads when chalice loads the app."""
        env = self.settings().to_env(exclude=DEFAULT_LIMITS)
        env[f"{ENV_PREFIX}ARTIFACTS_STREAM_ARN"] = self.outputs.artifacts_stream_arn
        env.update(PYDANTIC_ENV)
        return env
