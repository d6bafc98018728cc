"""The trigger Lambda: each stream record of a new artifact version starts its subscribed launch plans.

Per record: one Query for the artifact's subscriptions (shared by the batch's records of that artifact, see
subscriptions.py), one Query per member of each aligned trigger (`OnArtifacts`), one conditional PutItem
claiming the runs (chalicelib.store.claims; a decision past one item, about 10,000 launch plans, adds one
BatchWriteItem per 25 items), then one StartExecution per match. Records of different items, and the starts
of one record, run concurrently (bounded threads, see pool.py); records of one item run in stream order.
A record that fails is logged with its named error and reported alone (ReportBatchItemFailures, see
batch.py), so it neither blocks nor replays the others.
This module must stay light: nothing it imports, at import or per record, imports pandas or pydantic (its classes
are checked msgspec Structs, chalicelib.checks; tests/unit/test_cold_path.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import aws, logs
from chalicelib.config import Settings
from chalicelib.events.stream import DynamoDBRecord, record_id, version_from_record
from chalicelib.store.index import ArtifactIndex
from chalicelib.store.models import ArtifactVersion, Subscription
from chalicelib.store.registry import Registry
from chalicelib.trigger import subscriptions
from chalicelib.trigger.align import Aligner
from chalicelib.trigger.batch import process_stream_batch
from chalicelib.trigger.decide import RunRequest, decide
from chalicelib.trigger.pool import MAX_WORKERS, Pool
from chalicelib.store.claims import StartLedger
from chalicelib.trigger.start import StartResult, preview, start_claimed, start_replayed

logger = logs.get_logger("trigger")
FAILED = "stream record failed; reported for retry, then dead-lettering"


class Trigger:
    def __init__(self, registry: Registry, sfn: Any, aligner: Aligner | None = None,
                 ledger: StartLedger | None = None, max_workers: int = MAX_WORKERS) -> None:
        """`max_workers` bounds the records handled at once and, separately, the starts issued at once
        (chalicelib.trigger.pool); 1 handles a batch one record, and one start, at a time."""
        self.registry = registry
        self.max_workers = max_workers
        self.sfn = sfn
        self.aligner = aligner
        self.ledger = ledger or StartLedger(registry.table, registry.dynamodb)

    @classmethod
    def of(cls, settings: Settings, dynamodb: Any, sfn: Any) -> Trigger:
        """The trigger of a stage, with its own clients."""
        return cls(Registry(settings, dynamodb), sfn, Aligner(ArtifactIndex.of(dynamodb, settings)))

    @logs.per_record(logger, record_id, FAILED)
    def on_record(self, record: DynamoDBRecord, starts: Pool | None = None) -> list[StartResult]:
        version = version_from_record(record)
        if version is None:
            return []
        logs.add_keys(logger, artifact=version.name, version=version.version)
        subs = subscriptions.subscriptions_for(self.registry, version.name)
        return start_claimed(self.sfn, self.ledger, version, self.plan(version, subs), starts)

    def plan(self, version: ArtifactVersion, subs: list[Subscription], salt: str = "") -> list[RunRequest]:
        """The runs this version starts: single-artifact triggers (pure), then aligned sets (index lookups)."""
        requests = decide(version, subs, salt)
        if self.aligner is not None:
            requests += self.aligner.requests(version, subs, salt)
        return requests

    def replay(self, version: ArtifactVersion, subs: list[Subscription], salt: str = "",
               dry_run: bool = False) -> list[StartResult]:
        """Replay one version through the start claim: each planned launch plan starts the run recorded for it
        (nothing new if it already started, whatever was registered since); unrecorded ones are claimed and
        started once. `salt` (a forced replay) records under its own key; `dry_run` starts nothing."""
        requests = self.plan(version, subs, salt)
        with logs.correlated(logger, artifact=version.name, version=version.version):
            if dry_run:
                return preview(self.sfn, self.ledger, version, requests, salt)
            return start_replayed(self.sfn, self.ledger, version, requests, salt)

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """One stream batch: records of different items at once, each record's starts at once."""
        with subscriptions.one_batch(), Pool(self.max_workers, "trigger-records") as records, \
                Pool(self.max_workers, "trigger-starts") as starts:
            return process_stream_batch(event, lambda record: self.on_record(record, starts), pool=records)


@lru_cache(maxsize=1)
def default_trigger() -> Trigger:
    settings = Settings.from_env()
    return Trigger.of(settings, aws.client("dynamodb", settings.region), aws.client("stepfunctions", settings.region))
