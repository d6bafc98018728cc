"""flytekit's notifications: `Email`, `Slack` and `PagerDuty`, each with terminal phases and recipients.

As in flytekit, all three send email (Slack and PagerDuty through their email integrations); the class says
what the address is. Registration gives each launch plan with notifications one SNS topic, its recipients
subscribed by email, and one EventBridge rule on the Step Functions status changes of that launch plan's
executions (chalicelib/ops/notify.py).
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.errors import DefinitionError


class WorkflowExecutionPhase:
    """flytekit.models.core.execution.WorkflowExecutionPhase: the same names and values."""

    UNDEFINED = 0
    QUEUED = 1
    RUNNING = 2
    SUCCEEDING = 3
    SUCCEEDED = 4
    FAILING = 5
    FAILED = 6
    ABORTED = 7
    TIMED_OUT = 8
    ABORTING = 9

    @classmethod
    def enum_to_string(cls, int_value: int) -> str:
        for name, value in vars(cls).items():
            if value == int_value and name.isupper():
                return name
        return str(int_value)


# the terminal phases, and the Step Functions execution status each one is
STATUS_OF_PHASE = {
    WorkflowExecutionPhase.SUCCEEDED: "SUCCEEDED",
    WorkflowExecutionPhase.FAILED: "FAILED",
    WorkflowExecutionPhase.TIMED_OUT: "TIMED_OUT",
    WorkflowExecutionPhase.ABORTED: "ABORTED",
}
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def _phase(value: Any, where: str) -> int:
    if isinstance(value, str) and value.upper() in vars(WorkflowExecutionPhase):
        value = vars(WorkflowExecutionPhase)[value.upper()]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9:
        raise DefinitionError(
            f"{where}: {value!r} is not a WorkflowExecutionPhase; use WorkflowExecutionPhase.FAILED, .SUCCEEDED, "
            f".TIMED_OUT or .ABORTED"
        )
    if value not in STATUS_OF_PHASE:
        raise DefinitionError(
            f"{where}: phase {WorkflowExecutionPhase.enum_to_string(value)} is not a terminal phase; notifications "
            f"are sent when an execution ends: use SUCCEEDED, FAILED, TIMED_OUT or ABORTED"
        )
    return value


class Notification:
    kind = ""

    def __init__(self, phases: list[int], recipients_email: list[str]) -> None:
        where = f"{type(self).__name__}(phases=..., recipients_email=...)"
        if isinstance(phases, (int, str)) or not isinstance(phases, (list, tuple, set, frozenset)) or not phases:
            raise DefinitionError(f"{where}: phases must be a non-empty list, e.g. [WorkflowExecutionPhase.FAILED]; "
                                  f"got {phases!r}")
        if isinstance(recipients_email, str) or not isinstance(recipients_email, (list, tuple)) or not recipients_email:
            raise DefinitionError(f"{where}: recipients_email must be a non-empty list of addresses, e.g. "
                                  f"['team@example.com']; got {recipients_email!r}")
        bad = [r for r in recipients_email if not isinstance(r, str) or not _EMAIL.match(r)]
        if bad:
            raise DefinitionError(f"{where}: {bad[0]!r} is not an email address")
        self.phases = sorted({_phase(p, where) for p in phases})
        self.recipients_email = sorted(set(recipients_email))

    @property
    def statuses(self) -> list[str]:
        """The Step Functions statuses this notification fires on."""
        return sorted(STATUS_OF_PHASE[p] for p in self.phases)

    def definition(self) -> dict[str, Any]:
        return {"kind": self.kind, "statuses": self.statuses, "recipients": self.recipients_email}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Notification) and self.definition() == other.definition()

    def __hash__(self) -> int:
        return hash(repr(self.definition()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(phases={self.statuses}, recipients_email={self.recipients_email})"


class Email(Notification):
    """Email the recipients when an execution of the launch plan ends in one of `phases`."""

    kind = "email"


class Slack(Notification):
    """As Email; the addresses are Slack channel email addresses."""

    kind = "slack"


class PagerDuty(Notification):
    """As Email; the addresses are PagerDuty service integration email addresses."""

    kind = "pagerduty"
