"""The baselines the benchmarks compare against, written the obvious way. Not used by the project itself.

* `ScanningRegistry`: finds an artifact's subscriptions by scanning every subscription in the registry.
* `PollingSensor`: a Dagster-style sensor that polls the artifacts table on an interval and starts runs.
* `latest_by_listing`: the latest version for some partitions, by reading every version of the artifact.

Versions live on chalicelib.store.models.VERSION_SHARDS write shards per artifact, so each baseline reads
every shard's key (`versions_pks`) and merges what they hold.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from chalicelib.config import Settings
from chalicelib.sdk.timeparts import iso
from chalicelib.store.dynamo import from_dynamo
from chalicelib.store.models import SUBSCRIPTION_PK, VERSION_SK, ArtifactVersion, Subscription, versions_pks
from chalicelib.store.registry import Registry
from chalicelib.trigger.batch import process_stream_batch
from chalicelib.trigger.decide import decide
from chalicelib.trigger.handler import Trigger
from chalicelib.trigger.start import start


class ScanningRegistry(Registry):
    """A registry whose subscription lookup scans all subscriptions (1 MB pages) and filters in the function."""

    def subscriptions_for(self, artifact: str) -> list[Subscription]:
        kwargs: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True,
            "FilterExpression": "begins_with(pk, :p)", "ExpressionAttributeValues": {":p": {"S": SUBSCRIPTION_PK}},
        }
        subs = []
        while True:
            resp = self.dynamodb.scan(**kwargs)
            subs.extend(Subscription.from_item(from_dynamo(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return [s for s in subs if s.artifact == artifact]


class ScanningTrigger(Trigger):
    """Our trigger, but every record scans for its subscriptions (no lookup shared by a batch)."""

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return process_stream_batch(event, self.on_record)


def scanning_trigger(settings: Settings, dynamodb: Any, sfn: Any) -> Trigger:
    """The baseline trigger: parsing, deciding and starting as ours; subscriptions found by scanning."""
    return ScanningTrigger(ScanningRegistry(settings, dynamodb), sfn)


class PollingSensor:
    """Every `interval` seconds, read the versions of `artifact` newer than a cursor and start their runs.

    Generous to the baseline: it reads every new version (an asset sensor reads only the newest) and polls
    the table directly instead of going through a daemon loop."""

    def __init__(self, settings: Settings, dynamodb: Any, sfn: Any, artifact: str, interval: float) -> None:
        self.settings = settings
        self.dynamodb = dynamodb
        self.sfn = sfn
        self.registry = Registry(settings, dynamodb)
        self.artifact = artifact
        self.interval = interval
        self.cursor = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """Read every shard's versions newer than the cursor, then start their runs oldest first."""
        since = self.cursor
        new: list[ArtifactVersion] = []
        for pk in versions_pks(self.artifact):
            new.extend(_query_all(self.dynamodb, {
                "TableName": self.settings.artifacts_table, "ConsistentRead": True,
                "KeyConditionExpression": "pk = :pk AND sk > :c",
                "ExpressionAttributeValues": {":pk": {"S": pk}, ":c": {"S": VERSION_SK + since}},
            }))
        started = 0
        for version in sorted(new, key=lambda v: v.version):
            for request in decide(version, self.registry.subscriptions_for(version.name)):
                start(self.sfn, request)
                started += 1
            self.cursor = max(self.cursor, version.version)
        return started

    def start(self) -> None:
        self.tick()  # move the cursor past existing history

        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.tick()

        self._thread = threading.Thread(target=loop, name="polling-sensor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def latest_by_listing(dynamodb: Any, settings: Settings, name: str, partitions: dict[str, str],
                      time_partition: datetime | None = None) -> ArtifactVersion:
    """Read every version of `name` (all pages of every write shard) and keep the greatest one that has these
    partitions."""
    best: ArtifactVersion | None = None
    want_tp = iso(time_partition) if time_partition is not None else None
    for pk in versions_pks(name):
        for v in _query_all(dynamodb, {"TableName": settings.artifacts_table, "KeyConditionExpression": "pk = :pk",
                                       "ExpressionAttributeValues": {":pk": {"S": pk}}}):
            if v.partitions != partitions:
                continue
            if want_tp is not None and (v.time_partition is None or iso(v.time_partition) != want_tp):
                continue
            if best is None or v.version > best.version:
                best = v
    if best is None:
        raise LookupError(f"no version of {name} with {partitions}")
    return best


def _query_all(dynamodb: Any, kwargs: dict[str, Any]) -> list[ArtifactVersion]:
    """Every version a Query returns, over all its pages."""
    out = []
    while True:
        resp = dynamodb.query(**kwargs)
        out.extend(ArtifactVersion.from_item(from_dynamo(item)) for item in resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return out
        kwargs = {**kwargs, "ExclusiveStartKey": resp["LastEvaluatedKey"]}
