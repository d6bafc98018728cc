"""After `chalice deploy`: the settings chalice's `on_dynamodb_record` cannot give the stream mapping.

    FunctionResponseTypes        ReportBatchItemFailures: the handler reports failed records by sequence number
    BisectBatchOnFunctionError   a failing batch is split, so one poisoned record cannot hold back the others
    MaximumRetryAttempts         bounded, so a record that keeps failing leaves the shard
    MaximumRecordAgeInSeconds    bounded for the same reason
    DestinationConfig.OnFailure  the infra stack's dead-letter queue gets what was given up on

And the upload function's asynchronous invocations (S3 invokes it so), which chalice cannot configure either:

    MaximumRetryAttempts         2, Lambda's maximum (processing an upload is idempotent)
    MaximumEventAgeInSeconds     6 h, Lambda's maximum
    DestinationConfig.OnFailure  the infra stack's upload dead-letter queue gets the event and the error

Decide, then act: the desired settings are compared with the mapping's, and only differences are sent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.aws import error_code
from chalicelib.deploy.errors import DeployError

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


class WireResult(BaseModel):
    uuid: str
    changed: list[str]
    removed: list[str]


def _mappings(lam: Any, function_name: str, stream_arn: str) -> list[dict[str, Any]]:
    # Filtered here rather than with FunctionName=: moto matches that literally against what the mapping was
    # created with (chalice passes the ARN), while AWS accepts a name or an ARN.
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"EventSourceArn": stream_arn}
    while True:
        resp = lam.list_event_source_mappings(**kwargs)
        found.extend(m for m in resp.get("EventSourceMappings", [])
                     if m.get("FunctionArn", "").split(":")[6:7] == [function_name])
        if not resp.get("NextMarker"):
            return found
        kwargs["Marker"] = resp["NextMarker"]


def wire_stream_mapping(lam: Any, function_name: str, stream_arn: str, dlq_arn: str,
                        recorded_uuid: str | None = None) -> WireResult:
    """Give the (single) mapping from `stream_arn` to `function_name` the desired settings.

    A second mapping on the same stream and function would invoke the trigger twice per record; one left by an
    interrupted deploy is deleted, keeping the one chalice recorded (or the oldest).
    """
    mappings = _mappings(lam, function_name, stream_arn)
    if not mappings:
        raise DeployError(f"no event-source mapping from {stream_arn} to {function_name}; `chalice deploy` creates "
                          f"it from CASCADE_ARTIFACTS_STREAM_ARN in .chalice/config.json. Run the deploy again.")
    mappings.sort(key=lambda m: (m["UUID"] != recorded_uuid, str(m.get("LastModified", ""))))
    keep, extra = mappings[0], mappings[1:]
    removed = []
    for mapping in extra:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        removed.append(mapping["UUID"])
    current = lam.get_event_source_mapping(UUID=keep["UUID"])
    changes = differences(current, desired_settings(dlq_arn))
    if changes:
        lam.update_event_source_mapping(UUID=keep["UUID"], **changes)
    return WireResult(uuid=keep["UUID"], changed=sorted(changes), removed=removed)


# -- the upload function's asynchronous invocations ----------------------------------------------------------
# S3 invokes `on_upload` asynchronously: Lambda retries a failed event, then drops it unless the function has an
# on-failure destination. chalice cannot set one (EventInvokeConfig), so it is set here after `chalice deploy`.
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


