"""One root error type; every user-facing failure is a subclass that names the value and the fix."""

from __future__ import annotations


class CascadeError(Exception):
    """Root of every error this project raises on purpose."""


class DefinitionError(CascadeError):
    """A task, workflow, artifact or launch plan is defined in a way that cannot work."""


class ArtifactError(CascadeError):
    """An artifact value, version or query is wrong."""


class PartitionMismatchError(ArtifactError):
    """Partition keys given do not match the artifact's declared keys."""

    def __init__(self, artifact: str, expected: list[str], got: list[str]) -> None:
        self.artifact, self.expected, self.got = artifact, sorted(expected), sorted(got)
        super().__init__(
            f"artifact {artifact!r} has partition keys {self.expected}; got {self.got}. "
            f"Pass exactly these keys, e.g. {', '.join(f'{k}=...' for k in self.expected) or 'no partitions'}."
        )


class TimePartitionError(ArtifactError):
    """A time partition is missing where required, or given where not allowed."""


class UnknownArtifactError(ArtifactError):
    """No artifact (or version) with this name exists."""


class NoMatchingVersionError(ArtifactError):
    """A query matched no artifact version."""


class InvalidNameError(DefinitionError):
    """A name or partition value uses characters that could forge storage keys."""


class InputError(CascadeError):
    """Workflow inputs are missing, unexpected or of the wrong type."""


class UnknownWorkflowError(CascadeError):
    """The named workflow is not defined in the loaded file."""


class WorkflowLoadError(CascadeError):
    """A workflow file could not be imported."""


class EventError(CascadeError):
    """A Lambda event could not be understood."""


class TaskFailedError(CascadeError):
    """A task raised; carries the task's own error type and message."""


class TriggerCycleError(DefinitionError):
    """Registering these launch plans would let an artifact trigger its own production again."""


class UnknownLaunchPlanError(CascadeError):
    """No launch plan with this name is registered."""


class StageConfigError(CascadeError):
    """The CLI cannot tell which deployed stage (tables, region, endpoint) to talk to."""


class MalformedRecordError(EventError):
    """A stream record or dead-letter message cannot be read as what it claims to be."""


class OversizeInputError(CascadeError):
    """A value is larger than the service that has to carry it accepts."""


class VersionConflictError(ArtifactError):
    """Two different producers arrived at the same version id; the second is refused, nothing is overwritten."""


class TransientAwsError(CascadeError):
    """AWS kept throttling or failing (5xx) after the client's retries; the step is safe to run again."""


class DeadLetterError(CascadeError):
    """A dead-lettered batch cannot be read back or re-driven (e.g. its records expired from the stream)."""
