"""Lambda's on-failure record for a DynamoDB stream batch: what lands in the dead-letter queue.

Lambda sends it (as the SQS message body) when a batch exhausts the event source mapping's retries or its
maximum record age. It locates the batch in the stream (shard, first and last sequence number); it does not
carry the records, which must be read back from the stream while they are retained (24 hours).
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.errors import MalformedRecordError


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class FailureRequestContext(_Model):
    request_id: str = Field(alias="requestId")
    function_arn: str = Field(alias="functionArn")
    condition: str
    approximate_invoke_count: int = Field(alias="approximateInvokeCount")


class FailureResponseContext(_Model):
    status_code: int | None = Field(default=None, alias="statusCode")
    executed_version: str | None = Field(default=None, alias="executedVersion")
    function_error: str | None = Field(default=None, alias="functionError")


class StreamBatchInfo(_Model):
    shard_id: str = Field(alias="shardId")
    start_sequence_number: str = Field(alias="startSequenceNumber")
    end_sequence_number: str = Field(alias="endSequenceNumber")
    approximate_arrival_of_first_record: datetime | None = Field(default=None, alias="approximateArrivalOfFirstRecord")
    approximate_arrival_of_last_record: datetime | None = Field(default=None, alias="approximateArrivalOfLastRecord")
    batch_size: int = Field(alias="batchSize")
    stream_arn: str = Field(alias="streamArn")


class StreamFailureRecord(_Model):
    request_context: FailureRequestContext = Field(alias="requestContext")
    response_context: FailureResponseContext | None = Field(default=None, alias="responseContext")
    version: str
    timestamp: datetime
    batch: StreamBatchInfo = Field(alias="DDBStreamBatchInfo")


def parse_failure_record(body: str | bytes) -> StreamFailureRecord:
    """The on-failure record in an SQS message body; MalformedRecordError if it is something else."""
    try:
        return StreamFailureRecord.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise MalformedRecordError(
            f"dead-letter message is not Lambda's on-failure record of a DynamoDB stream batch: {exc}"
        ) from exc
