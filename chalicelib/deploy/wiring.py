"""The settings chalice's `on_dynamodb_record` cannot give the stream mapping (the stage template sets them on
the mapping, chalicelib/deploy/template.py):

    FunctionResponseTypes        ReportBatchItemFailures: the handler reports failed records by sequence number
    BisectBatchOnFunctionError   a failing batch is split, so one poisoned record cannot hold back the others
    MaximumRetryAttempts         bounded, so a record that keeps failing leaves the shard
    MaximumRecordAgeInSeconds    bounded for the same reason
    DestinationConfig.OnFailure  the infra stack's dead-letter queue gets what was given up on

And the upload function's asynchronous invocations (S3 invokes it so), which chalice cannot configure either
(the stage template's EventInvokeConfig; the local cloud sets it with wire_upload_destination):

    MaximumRetryAttempts         2, Lambda's maximum (processing an upload is idempotent)
    MaximumEventAgeInSeconds     6 h, Lambda's maximum
    DestinationConfig.OnFailure  the infra stack's upload dead-letter queue gets the event and the error

Decide, then act: the desired settings are compared with the mapping's, and only differences are sent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.aws import error_code

MAX_RETRY_ATTEMPTS = 5
MAX_RECORD_AGE_SECONDS = 6 * 3600  # stream records live 24 h; a trigger six hours late is better sent to the DLQ


def desired_settings(dlq_arn: str) -> dict[str, Any]:
    return {
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
        "MaximumRecordAgeInSeconds": MAX_RECORD_AGE_SECONDS,
        "DestinationConfig": {"OnFailure": {"Destination": dlq_arn}},
    }


def differences(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The desired settings that the mapping `current` (a GetEventSourceMapping response) lacks. Pure."""
    changes = {}
    for key, value in desired.items():
        have = current.get(key)
        if key == "DestinationConfig":
            have = ((have or {}).get("OnFailure") or {}).get("Destination")
            value_cmp = value["OnFailure"]["Destination"]
        elif key == "FunctionResponseTypes":
            have, value_cmp = sorted(have or []), sorted(value)
        else:
            value_cmp = value
        if have != value_cmp:
            changes[key] = value
    return changes


# -- the upload function's asynchronous invocations ----------------------------------------------------------
# S3 invokes `on_upload` asynchronously: Lambda retries a failed event, then drops it unless the function has an
# on-failure destination. chalice cannot set one (EventInvokeConfig).
UPLOAD_MAX_RETRY_ATTEMPTS = 2  # Lambda's maximum for async invocations; processing an upload is idempotent
UPLOAD_MAX_EVENT_AGE_SECONDS = 6 * 3600  # Lambda's maximum: an event kept back by throttling longer is dead-lettered


def desired_invoke_config(dlq_arn: str) -> dict[str, Any]:
    return {
        "MaximumRetryAttempts": UPLOAD_MAX_RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": UPLOAD_MAX_EVENT_AGE_SECONDS,
        "DestinationConfig": {"OnFailure": {"Destination": dlq_arn}},
    }


def invoke_config_differences(current: dict[str, Any] | None, desired: dict[str, Any]) -> list[str]:
    """The settings of `desired` that `current` (a GetFunctionEventInvokeConfig response, or None) lacks. Pure."""
    current = current or {}
    changed = []
    for key, value in desired.items():
        have = current.get(key)
        if key == "DestinationConfig":
            have = ((have or {}).get("OnFailure") or {}).get("Destination")
            value = value["OnFailure"]["Destination"]
        if have != value:
            changed.append(key)
    return changed


class InvokeConfigResult(BaseModel):
    function: str
    changed: list[str]


def wire_upload_destination(lam: Any, function_name: str, dlq_arn: str) -> InvokeConfigResult:
    """Give `function_name` (unqualified: $LATEST, which S3 invokes) the desired EventInvokeConfig; sends
    nothing when it has it already. PutFunctionEventInvokeConfig replaces the whole configuration."""
    try:
        current: dict[str, Any] | None = lam.get_function_event_invoke_config(FunctionName=function_name)
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        current = None
    desired = desired_invoke_config(dlq_arn)
    changed = invoke_config_differences(current, desired)
    if changed:
        lam.put_function_event_invoke_config(FunctionName=function_name, **desired)
    return InvokeConfigResult(function=function_name, changed=changed)


