"""`current_context()`: what a running task may ask about its execution, as flytekit's ExecutionParameters.

The task runner opens a context around each task: a scratch `working_directory` under the temp dir (`/tmp`
in Lambda), removed when the task's outputs are stored. Outside the runner (a task called as a plain
function, a notebook) `current_context()` returns a context whose directory lives until the process exits.
"""

from __future__ import annotations

from msgspec import Struct, field
import atexit
import contextvars
import logging
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from chalicelib.errors import CascadeError


class SecretNotFoundError(CascadeError):
    """A secret was asked for that the task runner's environment does not provide."""


def secret_env_name(group: str | None, key: str | None) -> str:
    """`Secret(group="db", key="password")` is read from the environment variable DB_PASSWORD."""
    parts = [p for p in (group, key) if p]
    return re.sub(r"[^A-Za-z0-9]", "_", "_".join(parts)).upper()


class Secrets:
    """`current_context().secrets.get(group, key)`: read from the task runner's environment variables."""

    def get(self, group: str | None = None, key: str | None = None, group_version: str | None = None,
            encode_mode: str = "r", env_var: str | None = None) -> str:
        name = env_var or secret_env_name(group, key)
        if not name:
            raise SecretNotFoundError("secrets.get() needs a group or a key")
        value = os.environ.get(name)
        if value is None:
            raise SecretNotFoundError(
                f"secret group={group!r} key={key!r} is not set: tasks read secrets from the environment variable "
                f"{name} of the task-runner function; set it in .chalice/config.json (environment_variables), "
                f"e.g. from AWS Secrets Manager"
            )
        return value if "b" not in encode_mode else value.encode()  # type: ignore[return-value]

    def get_secrets_env_var(self, group: str | None = None, key: str | None = None, group_version: str | None = None) -> str:
        return secret_env_name(group, key)

    def get_secrets_file(self, group: str | None = None, key: str | None = None, group_version: str | None = None) -> str:
        """flytekit's file-mounted secret (Secret.MountType.FILE): the environment variable's value, written to a
        file readable only by this process, removed with the task's working directory."""
        value = self.get(group, key)
        folder = tempfile.mkdtemp(dir=current_context().working_directory)
        path = os.path.join(folder, secret_env_name(group, key).lower())
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
            fh.write(value)
        return path


SecretsManager = Secrets  # flytekit's name for the object `current_context().secrets` is


class ExecutionContext(Struct):
    """The attributes of flytekit's ExecutionParameters that make sense here."""

    working_directory: str
    execution_id: str = "local"
    execution_date: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    task_id: str = "local"
    raw_output_prefix: str = ""
    logging: logging.Logger = field(default_factory=lambda: logging.getLogger("chalicelib.task"))
    secrets: Secrets = field(default_factory=Secrets)

    def get(self, key: str) -> object:
        return getattr(self, key)

    @property
    def default_deck(self) -> object:
        """flytekit's default deck; decks are not rendered here (see chalicelib.sdk.compat.Deck)."""
        from chalicelib.sdk.compat import Deck

        return Deck("default")

    @property
    def decks(self) -> list[object]:
        return []


ExecutionParameters = ExecutionContext  # flytekit's name


class FileAccess:
    """The part of flytekit's `FlyteContext.file_access` a task uses: scratch paths inside its working directory."""

    def __init__(self, ctx: ExecutionContext) -> None:
        self._ctx = ctx

    @property
    def local_sandbox_dir(self) -> str:
        return self._ctx.working_directory

    def get_random_local_path(self, file_path_or_file_name: str | None = None) -> str:
        name = os.path.basename(file_path_or_file_name) if file_path_or_file_name else ""
        return os.path.join(tempfile.mkdtemp(dir=self._ctx.working_directory), name or "file")

    def get_random_local_directory(self) -> str:
        return tempfile.mkdtemp(dir=self._ctx.working_directory)


class FlyteContext:
    """flytekit's internal context, as far as a task reads it: `user_space_params` (what `current_context()`
    returns), `execution_state.user_space_params` and `file_access`."""

    def __init__(self, params: ExecutionContext) -> None:
        self.user_space_params = params
        self.file_access = FileAccess(params)

    @property
    def execution_state(self) -> FlyteContext:
        return self

    @classmethod
    def current_context(cls) -> FlyteContext:
        return cls(current_context())


class FlyteContextManager:
    """`FlyteContextManager.current_context()`: the running task's FlyteContext."""

    @staticmethod
    def current_context() -> FlyteContext:
        return FlyteContext(current_context())


_current: contextvars.ContextVar[ExecutionContext | None] = contextvars.ContextVar("execution_context", default=None)
_fallback: ExecutionContext | None = None


def current_context() -> ExecutionContext:
    """The running task's context (or a process-wide one outside the task runner)."""
    ctx = _current.get()
    if ctx is not None:
        return ctx
    global _fallback
    if _fallback is None or not os.path.isdir(_fallback.working_directory):
        path = tempfile.mkdtemp(prefix="cascade-local-")
        atexit.register(shutil.rmtree, path, True)
        _fallback = ExecutionContext(working_directory=path)
    return _fallback


@contextmanager
def task_context(execution_id: str, task_id: str, execution_date: datetime | None = None,
                 raw_output_prefix: str = "") -> Iterator[ExecutionContext]:
    """A fresh scratch directory for one task run, removed afterwards whatever happens."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", task_id)[:60]
    path = tempfile.mkdtemp(prefix=f"cascade-{safe}-")
    ctx = ExecutionContext(
        working_directory=path, execution_id=execution_id, task_id=task_id,
        execution_date=execution_date or datetime.now(timezone.utc), raw_output_prefix=raw_output_prefix,
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
        shutil.rmtree(path, ignore_errors=True)
