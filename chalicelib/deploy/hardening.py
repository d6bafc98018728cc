"""The checkov findings the stage template accepts, each with its reason. `justify` writes them into the
template as checkov skip Metadata (`Metadata.checkov.skip`), so a checkov run reports them as skipped with the
reason, and anything else it finds as failed. README's Deploy section has the same table (`table()` prints it).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel


class Accepted(BaseModel):
    check: str
    types: tuple[str, ...]  # the resource types it is accepted on
    reason: str
    ids: tuple[str, ...] = ()  # only these logical ids (empty: every resource of the types)


LAMBDA = ("AWS::Lambda::Function",)
ACCEPTED: list[Accepted] = [
    Accepted(check="CKV_AWS_18", types=("AWS::S3::Bucket",), reason=(
        "server access logs need a second bucket per stage, which the stack would have to empty and delete too; "
        "audit object access with CloudTrail data events where it is needed")),
    Accepted(check="CKV_AWS_26", types=("AWS::SNS::Topic",), reason=(
        "the topics carry alarm state changes and execution statuses (names and ARNs, no data); CloudWatch and "
        "EventBridge cannot publish to a topic encrypted with the AWS managed key, and each topic's policy admits "
        "only its one publisher")),
    Accepted(check="CKV_AWS_27", types=("AWS::SQS::Queue",), reason=(
        "encrypted at rest with SQS-managed keys (SqsManagedSseEnabled); the check accepts only KMS keys")),
    Accepted(check="CKV_AWS_119", types=("AWS::DynamoDB::Table",), reason=(
        "encrypted at rest with the AWS managed key (SSEEnabled); a customer managed key adds a KMS request to "
        "reads, writes and stream reads and a key to administer, and IAM still decides who reads")),
    Accepted(check="CKV_AWS_115", types=LAMBDA, reason=(
        "reserved concurrency is a stage setting (`lambda_functions.<function>.reserved_concurrency`, e.g. on the "
        "task runner); reserving some by default would throttle a stage below the account's limit")),
    Accepted(check="CKV_AWS_116", types=LAMBDA, reason=(
        "the trigger's stream mapping and on_upload's EventInvokeConfig send failures to the dead-letter queues; "
        "the task runners and the API are invoked synchronously (Step Functions retries and records failures); "
        "a tick on_schedule fails is retried by Lambda, and `schedule tick LAUNCH_PLAN --at TIME` fires it again "
        "(same execution name)")),
    Accepted(check="CKV_AWS_117", types=LAMBDA, reason=(
        "the functions reach only AWS APIs, over TLS and with IAM; a VPC would add NAT or endpoints to every stage "
        "without narrowing what they can reach")),
    Accepted(check="CKV_AWS_173", types=LAMBDA, reason=(
        "the environment holds resource names and ARNs, no secrets; Lambda encrypts it at rest with its AWS "
        "managed key")),
    Accepted(check="CKV_AWS_73", types=("AWS::ApiGateway::Stage",), reason=(
        "X-Ray is off for the whole stage, functions included; chalice's `xray` setting turns it on")),
    Accepted(check="CKV_AWS_76", types=("AWS::ApiGateway::Stage",), reason=(
        "access logs need the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account), which one "
        "stage's stack must not own; every route requires IAM auth, and each request is an invocation of the API "
        "function, in its CloudWatch logs")),
    Accepted(check="CKV_AWS_120", types=("AWS::ApiGateway::Stage",), reason=(
        "the pages show lineage as it is now (a cache would serve it stale), and a cache cluster is billed by "
        "the hour")),
]


def justify(template: dict[str, Any]) -> dict[str, Any]:
    """`template` with each accepted finding as checkov skip Metadata on its resources."""
    out = copy.deepcopy(template)
    for lid, resource in sorted(out.get("Resources", {}).items()):
        skips = [{"id": a.check, "comment": a.reason} for a in ACCEPTED
                 if resource.get("Type") in a.types and (not a.ids or lid in a.ids)]
        if skips:
            meta = resource.setdefault("Metadata", {}).setdefault("checkov", {})
            meta["skip"] = sorted([*meta.get("skip", []), *skips], key=lambda s: s["id"])
    return out


def table() -> str:
    """The accepted findings as a Markdown table."""
    rows = ["| check | on | why accepted |", "|---|---|---|"]
    for a in ACCEPTED:
        on = ", ".join(a.ids) if a.ids else ", ".join(t.split("::", 1)[1] for t in a.types)
        rows.append(f"| {a.check} | {on} | {a.reason} |")
    return "\n".join(rows)
