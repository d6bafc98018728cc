"""The trigger Lambda: each stream record of a new artifact version starts its subscribed launch plans.

Per record: one Query for the artifact's subscriptions (shared by the batch's records of that artifact,
see subscriptions.py), then one StartExecution per match. A record that fails is reported alone
(ReportBatchItemFailures, see batch.py), so it neither blocks nor replays the others.
This module must stay light: it never imports pandas.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib import aws
from chalicelib.config import Settings
from chalicelib.events.stream import version_from_record
from chalicelib.store.registry import Registry
from chalicelib.trigger import subscriptions
from chalicelib.trigger.batch import process_stream_batch
from chalicelib.trigger.decide import decide
from chalicelib.trigger.start import StartResult, start

logger = Logger(service="trigger")


class Trigger:
    def __init__(self, registry: Registry, sfn: Any) -> None:
        self.registry = registry
        self.sfn = sfn

    def on_record(self, record: DynamoDBRecord) -> list[StartResult]:
        version = version_from_record(record)
        if version is None:
            return []
        subs = subscriptions.subscriptions_for(self.registry, version.name)
        results = []
        for request in decide(version, subs):
            result = start(self.sfn, request)
            logger.info("run request", extra={"artifact": version.name, "version": version.version,
                                              "launch_plan": request.launch_plan, "execution": request.name,
                                              "outcome": result.outcome})
            results.append(result)
        return results

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        with subscriptions.one_batch():
            return process_stream_batch(event, self.on_record)


@lru_cache(maxsize=1)
def default_trigger() -> Trigger:
    settings = Settings.from_env()
    ddb = aws.client("dynamodb", settings.region)
    return Trigger(Registry(settings, ddb), aws.client("stepfunctions", settings.region))
