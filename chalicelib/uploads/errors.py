"""Why an upload was refused. Each reason is a stable code (shown by `uploads --failed`) plus a message
that names the offending value and the fix."""

from __future__ import annotations

import enum

from chalicelib.errors import CascadeError


class Reason(str, enum.Enum):
    TRAVERSAL = "traversal"  # '..', '.', backslashes, control characters, or an encoded form of them
    BAD_KEY = "bad_key"  # the key does not follow the upload layout
    UNKNOWN_ARTIFACT = "unknown_artifact"
    UPLOADS_NOT_ACCEPTED = "uploads_not_accepted"
    PARTITION_MISMATCH = "partition_mismatch"
    BAD_PARTITION_VALUE = "bad_partition_value"
    TIME_PARTITION_MISSING = "time_partition_missing"
    TIME_PARTITION_UNEXPECTED = "time_partition_unexpected"
    TIME_PARTITION_INVALID = "time_partition_invalid"
    TIME_PARTITION_OUT_OF_RANGE = "time_partition_out_of_range"  # valid ISO 8601, but outside years 1-9999 in UTC
    UNSUPPORTED_FORMAT = "unsupported_format"
    EMPTY = "empty"
    OVERSIZE = "oversize"
    UNPARSEABLE = "unparseable"
    TOO_DEEP = "too_deep"  # a JSON value nested deeper than MAX_JSON_DEPTH
    PROCESSING_ERROR = "processing_error"  # our code failed on this object for a reason other than AWS
    MALFORMED_EVENT = "malformed_event"  # the S3 notification (or one of its records) is not what S3 sends
    DEAD_LETTER = "dead_letter"  # the invocation kept failing (AWS errors): its event is in the upload DLQ


class UploadRejected(CascadeError):
    """An uploaded object cannot become an artifact version; it is quarantined, never dropped."""

    def __init__(self, reason: Reason, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class UploadProcessingError(CascadeError):
    """Uploads that could not be processed for a reason other than their content (raised so that the
    invocation is retried; processing is idempotent)."""
