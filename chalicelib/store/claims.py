"""The start ledger: conditional writes fix, once, the run each (artifact version, launch plan) starts.

Why names alone are not enough. An execution name is a hash of artifact, version, launch plan and
launch-plan version, and that cannot promise exactly one run per (version, launch plan):
  * it includes the launch plan's version, so a record redelivered (Lambda retries a record until its
    maximum age; `dlq redrive` comes later still) or a version replayed after the launch plan was
    registered again gets a new name;
  * the set of subscriptions may change between two deliveries (a launch plan deactivated or added, a
    workflow renamed so that its state machine differs, and names are unique per state machine only);
  * Step Functions forgets a closed execution's name after 90 days, and Express workflows never dedupe.

What is stored. The runs of a version are recorded under one partition key, `START#<artifact>#<version>`,
as numbered **entries**; each entry is one item holding the run requests (name, state machine, input) it
claimed, and no launch plan is in two entries. Entry 0 (sort key `RUNS`, the item this ledger has always
written) is the decision made when the version was first seen; later entries are added by replay for
launch plans not recorded yet (a launch plan added later, a backfill). A forced replay records under
its own namespace (`FORCE#<hash of its salt>`), so resuming it with the same salt re-issues its runs.

Size. An entry's requests are one JSON document. Up to `INLINE_BYTES` it is stored as is (`requests`);
above, it is zlib-compressed (write units are per KB) and cut into slices of `SLICE_BYTES`: slice 0 in the
entry item, the others in **part** items keyed by the sha256 of the compressed document
(`<ns>#P#<digest>#<i>`), so every item stays under DynamoDB's 400 KB and no number of launch plans is too
many. A request is about 400 bytes and compresses about 13x, so one item holds the runs of about 10,000
launch plans; beyond that a first delivery costs one BatchWriteItem per 25 parts more, and so does a
redelivery (it writes its parts again before its conditional PutItem finds entry 0), plus one Query to
read the parts back.

Exactly once, the trigger (`claim`). The first delivery writes the parts (if any), then entry 0 with a
conditional PutItem (`attribute_not_exists`). Parts are content-addressed and written before the entry
that names them, so an entry never points at parts that are missing; parts of a delivery that lost the
race or died before its entry are never read, and expire. A later delivery fails the condition and gets
entry 0 back in the same call (ReturnValuesOnConditionCheckFailure=ALL_OLD), reads its parts if it has
any (one Query), and re-issues exactly the recorded requests, with the same names and inputs.
StartExecution with a known name and the same input is a no-op while the run is open and
`ExecutionAlreadyExists` after it closed, so a delivery that died between the claim and the start
completes the job, and nothing starts twice. If entry 0 was written by a replay (the version was
replayed before its stream record was handled), the trigger adds its decision for the launch plans not
recorded yet as a new entry, once (never if a trigger-made entry exists), then re-issues every entry.

Exactly once, replay (`extend`). Replay reads every entry (one Query), re-issues the recorded request
of each launch plan it replays, whatever was registered since, and claims the launch plans not recorded
yet as the next entry, with a conditional PutItem on that entry's number: of two concurrent replays one
wins the number, the other reads again and finds its launch plans recorded.

Claims expire (DynamoDB TTL on `expires_at`) after 90 days, when Step Functions releases the names too.
Stream records live 24 hours and `dlq redrive` reads them from the stream, so no delivery outlives its claim.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from msgspec import Struct, field
from msgspec.structs import force_setattr

from chalicelib import checks
from chalicelib.aws import error_code
from chalicelib.errors import CascadeError, TransientAwsError
from chalicelib.store.dynamo import from_dynamo, paginate, to_dynamo
from chalicelib.store.models import iso_ms

CLAIM_TTL = timedelta(days=90)
ITEM_LIMIT = 400 * 1024  # DynamoDB's item size limit, attribute names included
SLICE_BYTES = 350_000  # request bytes per item: the rest of ITEM_LIMIT is left for keys and attributes
INLINE_BYTES = 10 * 1024  # up to this, requests are stored as readable JSON; above, compressed (write units)
BATCH_ITEMS = 25  # BatchWriteItem's limit on items per call
MAX_ATTEMPTS = 10  # concurrent replays racing for the next entry number

Actor = Literal["trigger", "replay"]


ACTORS = ("trigger", "replay")
CLAIM_FIX = "the table was edited by hand: delete the claim's items to decide again"


class Entry(Struct, frozen=True, kw_only=True):
    number: int
    by: Actor
    claimed_at: datetime
    requests: list[dict[str, Any]]

    def __post_init__(self) -> None:
        where = f"start-claim entry {self.number!r}"
        checks.integer(self.number, f"{where} number", CascadeError, CLAIM_FIX)
        checks.one_of(self.by, ACTORS, f"{where} field 'by'", CascadeError, CLAIM_FIX)
        force_setattr(self, "claimed_at", checks.timestamp(self.claimed_at, f"{where} field 'claimed_at'",
                                                                CascadeError, CLAIM_FIX))
        force_setattr(self, "requests", checks.records(self.requests, f"{where} requests", CascadeError,
                                                            CLAIM_FIX))


class Claim(Struct, frozen=True, kw_only=True):
    artifact: str
    version: str
    salt: str = ""
    first: bool  # this call wrote entry 0; otherwise it found an earlier one
    claimed_at: datetime  # when entry 0 was written
    requests: list[dict[str, Any]]  # every recorded run request (chalicelib.trigger.decide), entry by entry
    new: list[str] = field(default_factory=list)  # launch plans this call recorded

    def by_launch_plan(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for request in self.requests:
            out.setdefault(request["launch_plan"], request)
        return out


# -- keys and encoding (pure) -----------------------------------------------------------------------
def namespace(salt: str = "") -> str:
    """The trigger's and plain replay's runs are under `RUNS`; a forced replay's under its salt's hash."""
    return "RUNS" if not salt else "FORCE#" + hashlib.sha256(salt.encode()).hexdigest()[:20]


def claim_key(artifact: str, version: str, salt: str = "", entry: int = 0) -> dict[str, str]:
    ns = namespace(salt)
    return {"pk": f"START#{artifact}#{version}", "sk": ns if entry == 0 else f"{ns}#E#{entry:06d}"}


def part_key(artifact: str, version: str, salt: str, digest: str, index: int) -> dict[str, str]:
    return {"pk": f"START#{artifact}#{version}", "sk": f"{namespace(salt)}#P#{digest}#{index:04d}"}


def encode(requests: list[dict[str, Any]], slice_bytes: int = SLICE_BYTES) -> tuple[dict[str, Any], list[bytes]]:
    """The entry's request attributes, and the slices that go to part items (1, 2, ...)."""
    doc = json.dumps(requests, separators=(",", ":")).encode()
    if len(doc) <= min(INLINE_BYTES, slice_bytes):
        return {"requests": doc.decode()}, []
    packed = zlib.compress(doc, 6)
    slices = [packed[i:i + slice_bytes] for i in range(0, len(packed), slice_bytes)]
    digest = hashlib.sha256(packed).hexdigest()[:32]
    return {"packed": slices[0], "digest": digest, "parts": len(slices), "count": len(requests)}, slices[1:]


def _where(entry: dict[str, Any]) -> str:
    return f"artifact {entry.get('artifact')!r} version {entry.get('version')!r} (entry {entry.get('sk')!r})"


def decode(entry: dict[str, Any], parts: dict[int, bytes]) -> list[dict[str, Any]]:
    """The requests of an entry item, given its part slices by index (1, 2, ...)."""
    if "requests" in entry:
        return json.loads(entry["requests"])
    total = int(entry["parts"])
    missing = [i for i in range(1, total) if i not in parts]
    if missing:  # cannot happen: parts are written before the entry that names them, and read consistently
        raise CascadeError(f"the start claim of {_where(entry)} names {total} parts and part(s) {missing} are "
                           f"missing; the table was edited by hand: delete the claim's items to decide again")
    packed = bytes(entry["packed"]) + b"".join(bytes(parts[i]) for i in range(1, total))
    if hashlib.sha256(packed).hexdigest()[:32] != entry["digest"]:
        raise CascadeError(f"the start claim of {_where(entry)} does not match its digest {entry['digest']}; "
                           f"the table was edited by hand: delete the claim's items to decide again")
    return json.loads(zlib.decompress(packed))


def missing(recorded: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The wanted requests whose launch plan has no recorded run."""
    have = {r["launch_plan"] for r in recorded}
    return [r for r in wanted if r["launch_plan"] not in have]


def _entry_number(sk: str) -> int:
    return int(sk.rsplit("#E#", 1)[1]) if "#E#" in sk else 0


def _entry(item: dict[str, Any], parts: dict[int, bytes]) -> Entry:
    return Entry(number=_entry_number(item["sk"]), by=item.get("by", "trigger"), claimed_at=item["claimed_at"],
                 requests=decode(item, parts))


class StartLedger:
    def __init__(self, table: str, dynamodb: Any, slice_bytes: int = SLICE_BYTES) -> None:
        self.table = table
        self.dynamodb = dynamodb
        self.slice_bytes = slice_bytes

    # -- the trigger --------------------------------------------------------------------------------
    def claim(self, artifact: str, version: str, requests: list[dict[str, Any]], now: datetime | None = None) -> Claim:
        """Record `requests` as the runs of a version, unless an earlier delivery did: then return its record."""
        now = now or datetime.now(timezone.utc)
        old = self._put_entry(artifact, version, "", 0, "trigger", requests, now)
        if old is None:
            return Claim(artifact=artifact, version=version, first=True, claimed_at=now, requests=requests,
                         new=[r["launch_plan"] for r in requests])
        if old.get("by", "trigger") == "trigger":
            parts = self._parts(artifact, version, "", old) if int(old.get("parts", 1)) > 1 else {}
            entry = _entry(old, parts)
            return Claim(artifact=artifact, version=version, first=False, claimed_at=entry.claimed_at,
                         requests=entry.requests)
        return self.extend(artifact, version, requests, by="trigger", now=now)  # a replay saw it first

    # -- replay -------------------------------------------------------------------------------------
    def extend(self, artifact: str, version: str, requests: list[dict[str, Any]], salt: str = "",
               by: Actor = "replay", now: datetime | None = None) -> Claim:
        """Record the requests whose launch plan has no recorded run yet; return every recorded run.

        With by="trigger", nothing is added if a trigger-made entry exists (its decision is made once)."""
        now = now or datetime.now(timezone.utc)
        for _ in range(MAX_ATTEMPTS):
            entries = self.entries(artifact, version, salt)
            recorded = [r for e in entries for r in e.requests]
            todo = missing(recorded, requests)
            if by == "trigger" and any(e.by == "trigger" for e in entries):
                todo = []
            if not todo:
                return self._claim_of(artifact, version, salt, entries, now, [])
            number = entries[-1].number + 1 if entries else 0
            if self._put_entry(artifact, version, salt, number, by, todo, now) is None:
                entries.append(Entry(number=number, by=by, claimed_at=now, requests=todo))
                return self._claim_of(artifact, version, salt, entries, now, [r["launch_plan"] for r in todo])
        raise CascadeError(f"artifact {artifact!r} version {version!r}: {MAX_ATTEMPTS} concurrent writers took the "
                           f"next start-claim entry in turn; run the replay again")

    def entries(self, artifact: str, version: str, salt: str = "") -> list[Entry]:
        """Every entry of a version's claim (in one namespace), in order: one consistent Query."""
        ns = namespace(salt)
        items = list(paginate(self.dynamodb, "query", {
            "TableName": self.table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :ns)",
            "ExpressionAttributeValues": {":pk": {"S": claim_key(artifact, version)["pk"]}, ":ns": {"S": ns}},
        }))
        heads = [i for i in items if i["sk"] == ns or i["sk"].startswith(f"{ns}#E#")]
        slices: dict[tuple[str, int], bytes] = {}
        for i in items:
            if i["sk"].startswith(f"{ns}#P#"):
                _, digest, index = i["sk"].rsplit("#", 2)
                slices[(digest, int(index))] = bytes(i["data"])
        entries = [_entry(h, {n: s for (d, n), s in slices.items() if d == h.get("digest")}) for h in heads]
        return sorted(entries, key=lambda e: e.number)

    def get(self, artifact: str, version: str, salt: str = "") -> Claim | None:
        entries = self.entries(artifact, version, salt)
        if not entries:
            return None
        return self._claim_of(artifact, version, salt, entries, entries[0].claimed_at, [])

    # -- writing ------------------------------------------------------------------------------------
    @staticmethod
    def _claim_of(artifact: str, version: str, salt: str, entries: list[Entry], now: datetime,
                  new: list[str]) -> Claim:
        first = bool(new) and len(entries) == 1
        return Claim(artifact=artifact, version=version, salt=salt, first=first,
                     claimed_at=entries[0].claimed_at if entries else now,
                     requests=[r for e in entries for r in e.requests], new=new)

    def _put_entry(self, artifact: str, version: str, salt: str, number: int, by: Actor,
                   requests: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
        """Parts first, then the entry, conditionally. None if written, else the entry found (ALL_OLD)."""
        attrs, slices = encode(requests, self.slice_bytes)
        expires = int((now + CLAIM_TTL).timestamp())
        if slices:
            self._write_parts(artifact, version, salt, attrs["digest"], slices, expires)
        key = claim_key(artifact, version, salt, number)
        item = {**key, "kind": "claim", "artifact": artifact, "version": version, "by": by,
                "claimed_at": iso_ms(now), "expires_at": expires, **attrs}
        try:
            self.dynamodb.put_item(
                TableName=self.table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            old = getattr(exc, "response", {}).get("Item")
            if old is not None:
                return from_dynamo(old)
            # a service that does not return the item: read it (only on this duplicate path)
            resp = self.dynamodb.get_item(TableName=self.table, Key=to_dynamo(key), ConsistentRead=True)
            if "Item" not in resp:
                raise
            return from_dynamo(resp["Item"])
        return None

    def _write_parts(self, artifact: str, version: str, salt: str, digest: str, slices: list[bytes],
                     expires: int) -> None:
        rows = [{"PutRequest": {"Item": to_dynamo({**part_key(artifact, version, salt, digest, i), "kind": "claim-part",
                                                   "data": data, "expires_at": expires})}}
                for i, data in enumerate(slices, start=1)]
        for start in range(0, len(rows), BATCH_ITEMS):
            pending: dict[str, list[dict[str, Any]]] = {self.table: rows[start:start + BATCH_ITEMS]}
            for _ in range(MAX_ATTEMPTS):
                pending = self.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
            else:
                raise TransientAwsError(f"artifact {artifact!r} version {version!r}: DynamoDB left start-claim parts "
                                   f"unwritten after {MAX_ATTEMPTS} BatchWriteItem calls (throttled); the record "
                                   f"is retried")

    def _parts(self, artifact: str, version: str, salt: str, entry: dict[str, Any]) -> dict[int, bytes]:
        prefix = f"{namespace(salt)}#P#{entry['digest']}#"
        items = paginate(self.dynamodb, "query", {
            "TableName": self.table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "ExpressionAttributeValues": {":pk": {"S": entry["pk"]}, ":p": {"S": prefix}},
        })
        return {int(i["sk"].rsplit("#", 1)[1]): bytes(i["data"]) for i in items}
