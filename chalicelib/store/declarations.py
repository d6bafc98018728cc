"""Artifact declarations in the registry table, written by registration and read with one GetItem.

    pk = "ARTIFACT#<name>"   sk = "DECLARATION"

They let code that must not import user workflow files (the upload handler) know an artifact's partition
keys, time partitioning and whether it accepts uploads.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from chalicelib.aws import error_code
from chalicelib.sdk.artifact import Artifact
from chalicelib.store.dynamo import from_dynamo, to_dynamo

SORT_KEY = "DECLARATION"


class ArtifactDeclaration(BaseModel):
    name: str
    partition_keys: list[str]
    time_partitioned: bool
    granularity: str
    accepts_uploads: bool
    description: str | None = None

    @classmethod
    def of(cls, artifact: Artifact) -> ArtifactDeclaration:
        return cls(
            name=artifact.name,
            partition_keys=list(artifact.partition_keys),
            time_partitioned=artifact.time_partitioned,
            granularity=artifact.granularity.value,
            accepts_uploads=artifact.accepts_uploads,
            description=artifact.description,
        )

    def to_item(self) -> dict[str, Any]:
        return {"pk": f"ARTIFACT#{self.name}", "sk": SORT_KEY, "name": self.name,
                "accepts_uploads": self.accepts_uploads, "doc": self.model_dump_json()}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ArtifactDeclaration:
        return cls.model_validate(json.loads(item["doc"]))


class Declarations:
    def __init__(self, table: str, dynamodb: Any) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def put(self, declaration: ArtifactDeclaration) -> bool:
        """Store a declaration; returns False (and writes nothing) when the stored one is the same."""
        item = declaration.to_item()
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=to_dynamo(item),
                ConditionExpression="attribute_not_exists(pk) OR doc <> :doc",
                ExpressionAttributeValues={":doc": {"S": item["doc"]}},
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def get(self, name: str) -> ArtifactDeclaration | None:
        resp = self.dynamodb.get_item(
            TableName=self.table,
            Key=to_dynamo({"pk": f"ARTIFACT#{name}", "sk": SORT_KEY}),
            ConsistentRead=True,
        )
        return ArtifactDeclaration.from_item(from_dynamo(resp["Item"])) if "Item" in resp else None
