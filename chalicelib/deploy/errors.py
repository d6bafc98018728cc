"""Deploy errors: each names the resource or file at fault and what to do about it."""

from __future__ import annotations

from chalicelib.errors import CascadeError


class DeployError(CascadeError):
    """A deploy, registration or teardown step could not complete."""


class StackError(DeployError):
    """The infra stack is missing, failed, or busy."""


class PackagingError(DeployError):
    """A deployment package or layer could not be built, or breaks a Lambda limit."""


class StackOwnedError(DeployError):
    """Registration would change what the stage's stack owns (state machines, schedules, notifications)."""
