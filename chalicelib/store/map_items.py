"""Results of a mapped task's items, one object per item under the execution's runs/ prefix.

Each item of a `map_task` writes its result here instead of returning it into the Map state, so the state
does not grow with the number of items (Step Functions caps it at 256 KiB); the collect step reads them back
in order. A missing object is an item that failed (tolerated by `min_success_ratio`).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aws import error_code
from chalicelib.config import Settings
from chalicelib.store import layout


def _key(execution: str, node: str, index: int) -> str:
    return layout.run_key(execution, node, f"item-{index}", "json")


class MapItems:
    def __init__(self, settings: Settings, s3: Any) -> None:
        self.settings = settings
        self.s3 = s3

    def put(self, execution: str, node: str, index: int, result: dict[str, Any]) -> None:
        self.s3.put_object(Bucket=self.settings.bucket, Key=_key(execution, node, index),
                           Body=json.dumps(result, separators=(",", ":")).encode())

    def stored(self, execution: str, node: str) -> set[int]:
        """Indexes of the items that stored a result (one listing: a missing object read without
        s3:ListBucket on the bucket is AccessDenied on AWS, not NoSuchKey)."""
        prefix = _key(execution, node, 0).rsplit("/", 1)[0] + "/item-"
        found = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.settings.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                index = obj["Key"][len(prefix):].split(".", 1)[0]
                if index.isdigit():
                    found.add(int(index))
        return found

    def get(self, execution: str, node: str, index: int) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.settings.bucket, Key=_key(execution, node, index))["Body"].read()
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)

    def put_literal(self, execution: str, node: str, output: str, literal: Any) -> dict[str, Any]:
        """A list of literals too large to travel in the state: stored as JSON, passed as a reference."""
        key = layout.run_key(execution, node, output, "json")
        self.s3.put_object(Bucket=self.settings.bucket, Key=key,
                           Body=json.dumps(literal, separators=(",", ":")).encode())
        return {"$ref": {"uri": f"s3://{self.settings.bucket}/{key}", "format": "json"}}
