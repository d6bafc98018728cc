"""Faster moto responses, same bytes. moto 5 builds every response by walking the operation's output shape and
asking, for every member of every structure, which attribute names the value may have. Two shortcuts:

* DynamoDB item operations (Query, Scan, GetItem, ...): moto's result is already the wire format (plain JSON:
  AttributeValue maps with strings, binaries as base64), so the walk returns it unchanged; the result is handed
  to the serializer's last step directly. A result that is not plain JSON (a datetime, bytes) takes the walk.
  A Query of 100 items otherwise spends about 2 ms per item in the walk.
* Everywhere else: the attribute names a member may have depend only on the object's class, the shape and the
  member, so they are computed once per combination.

tests/integration/test_moto_serializer.py checks both against moto's own output. Applied by the local cloud
(chalicelib.local.cloud) and only there.
"""

from __future__ import annotations

import json
from typing import Any

# DynamoDB operations whose result moto builds from plain item dicts (checked against the walk in the test).
PLAIN_DYNAMODB_RESULTS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"})
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _memoize_attribute_names()
    _plain_dynamodb_results()
    _applied = True


def _memoize_attribute_names() -> None:
    from moto.core import serialize

    original = serialize.XFormedAttributePicker.get_possible_keys
    cache: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def get_possible_keys(self: Any, context: Any) -> Any:
        obj = context.obj
        if "Meta" in getattr(obj, "__dict__", ()):  # aliases of this instance alone (ExplicitAlias): not cached
            return original(self, context)
        key = (tuple(self.alias_providers), type(obj), context.shape, context.key)
        try:
            return cache[key]
        except KeyError:
            names = cache[key] = tuple(original(self, context))
            return names
        except TypeError:  # an unhashable shape
            return original(self, context)

    serialize.XFormedAttributePicker.get_possible_keys = get_possible_keys


def _plain_dynamodb_results() -> None:
    from moto import settings
    from moto.core.serialize import XFormedAttributePicker
    from moto.dynamodb.responses import DynamoResult

    walk = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        if operation.name not in PLAIN_DYNAMODB_RESULTS or not _plain_json(self.result):
            return walk(self, context)
        serializer = context.serializer_class(operation_model=operation, pretty_print=settings.PRETTIFY_RESPONSES,
                                              value_picker=XFormedAttributePicker())
        resp = serializer._serialized_result_to_response(serializer._create_default_response(), self.result,
                                                         operation.output_shape, self.result)
        return resp["status_code"], resp["headers"], resp["body"]

    DynamoResult.execute_result = execute_result


def _plain_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
