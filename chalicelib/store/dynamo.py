"""The one place DynamoDB's typed JSON is converted to and from Python values."""

from __future__ import annotations

from typing import Any, Iterator

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_ser = TypeSerializer()
_de = TypeDeserializer()


def to_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def from_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def paginate(dynamodb: Any, operation: str, kwargs: dict[str, Any], page_size: int | None = None) -> Iterator[dict[str, Any]]:
    """Every item of a Query or Scan, page after page, as Python values (the one pagination loop)."""
    kwargs = dict(kwargs)
    if page_size:
        kwargs["Limit"] = page_size
    call = getattr(dynamodb, operation)
    while True:
        resp = call(**kwargs)
        for raw in resp.get("Items", []):
            yield from_dynamo(raw)
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
