"""The start ledger: one conditional write per artifact version fixes the runs that version starts.

The execution name alone (a hash of artifact, version, launch plan and launch-plan version) cannot promise
exactly one run per (version, launch plan):
  * it includes the launch plan's version, so a record redelivered after the launch plan was registered
    again (Lambda retries a record until its maximum age; `dlq redrive` comes later still) gets a new name;
  * the set of subscriptions may change between two deliveries (a launch plan deactivated or added, a
    workflow renamed so that its state machine differs, and names are unique per state machine only);
  * Step Functions forgets a closed execution's name after 90 days, and Express workflows never dedupe.

So the first delivery of a version that matches any subscription writes one registry item holding the run
requests it decided: a conditional PutItem, the trigger's second (and last) AWS call per record besides its
StartExecutions. A later delivery fails the condition and receives that item in the same call
(ReturnValuesOnConditionCheckFailure=ALL_OLD), then re-issues exactly the recorded requests, with the same
names and inputs. StartExecution with a known name and the same input is a no-op while the run is open and
`ExecutionAlreadyExists` after it closed, so a delivery that died between the claim and the start completes
the job, and nothing starts twice. The decision is the one made when the version was first seen.

Claims expire (DynamoDB TTL on `expires_at`) after 90 days, when Step Functions releases the names too.
Stream records live 24 hours and `dlq redrive` reads them from the stream, so no delivery outlives its claim.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from chalicelib.aws import error_code
from chalicelib.errors import OversizeInputError
from chalicelib.store.dynamo import from_dynamo, to_dynamo
from chalicelib.store.models import iso_ms

CLAIM_TTL = timedelta(days=90)
MAX_CLAIM_BYTES = 350_000  # DynamoDB items stop at 400 KB


class Claim(BaseModel):
    artifact: str
    version: str
    first: bool  # this delivery wrote the claim; otherwise it found an earlier one
    claimed_at: datetime
    requests: list[dict[str, Any]]  # the run requests as the trigger decided them (chalicelib.trigger.decide)


def claim_key(artifact: str, version: str) -> dict[str, str]:
    return {"pk": f"START#{artifact}#{version}", "sk": "RUNS"}


def _from_item(item: dict[str, Any], first: bool) -> Claim:
    return Claim(artifact=item["artifact"], version=item["version"], first=first, claimed_at=item["claimed_at"],
                 requests=json.loads(item["requests"]))


class StartLedger:
    def __init__(self, table: str, dynamodb: Any) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def claim(self, artifact: str, version: str, requests: list[dict[str, Any]], now: datetime | None = None) -> Claim:
        """Record `requests` as the runs of a version, unless an earlier delivery did: then return its record."""
        now = now or datetime.now(timezone.utc)
        doc = json.dumps(requests, separators=(",", ":"))
        if len(doc.encode()) > MAX_CLAIM_BYTES:
            raise OversizeInputError(
                f"artifact {artifact!r} version {version!r} starts {len(requests)} runs whose inputs "
                f"take {len(doc.encode())} bytes together; keep launch-plan inputs under {MAX_CLAIM_BYTES} bytes "
                f"in total by passing large values as artifacts"
            )
        item = {**claim_key(artifact, version), "artifact": artifact, "version": version,
                "claimed_at": iso_ms(now), "expires_at": int((now + CLAIM_TTL).timestamp()), "requests": doc}
        try:
            self.dynamodb.put_item(
                TableName=self.table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            old = getattr(exc, "response", {}).get("Item")
            if old is None:  # a service that does not return the item: read it (only on this duplicate path)
                found = self.get(artifact, version)
                if found is None:
                    raise
                return found
            return _from_item(from_dynamo(old), first=False)
        return Claim(artifact=artifact, version=version, first=True, claimed_at=now, requests=requests)

    def get(self, artifact: str, version: str) -> Claim | None:
        resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(claim_key(artifact, version)),
                                      ConsistentRead=True)
        return _from_item(from_dynamo(resp["Item"]), first=False) if "Item" in resp else None
