"""After `chalice deploy`: the settings chalice's `on_dynamodb_record` cannot give the stream mapping.

    FunctionResponseTypes        ReportBatchItemFailures: the handler reports failed records by sequence number
    BisectBatchOnFunctionError   a failing batch is split, so one poisoned record cannot hold back the others
    MaximumRetryAttempts         bounded, so a record that keeps failing leaves the shard
    MaximumRecordAgeInSeconds    bounded for the same reason
    DestinationConfig.OnFailure  the infra stack's dead-letter queue gets what was given up on

Decide, then act: the desired settings are compared with the mapping's, and only differences are sent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

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
