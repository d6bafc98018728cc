"""Speed patches of moto: the same answers, without walking every item or execution on every call.

moto keeps a table's items in a dict of partitions (`Table.items[hash key][range key]`), yet its Query of a
table (not of an index) sorts *every* item of the table and then keeps those of the asked partition; a
StartExecution looks for an execution of the same name by walking all of the state machine's executions.
Both grow with everything written before, so a long run (a load test, a seeded history) slows down
quadratically. Here:

  * a Query on a table's key reads the asked partition only (`Table.items[hash key]`, a snapshot of it),
    sorted by range key as moto sorts it; everything after that (the range condition, paging with
    ExclusiveStartKey, Limit, the 1 MB page, ScanIndexForward, filters, projections, ScannedCount) is moto's
    own code, unchanged. Queries on an index, and Scans, go to moto unchanged;
  * StartExecution finds an earlier execution of the same name through an index of names per state
    machine, kept in step with the machine's list of executions (moto only ever appends to it); what it
    does with the one it finds (the same execution back while it runs with the same input, else
    ExecutionAlreadyExists) is moto's, unchanged;
  * every request lists the public functions of its service's response class (`inspect.getmembers`, about
    0.3 ms) to find the action's method; the list depends on the class only, so it is kept per class;
  * moto 5 builds a response by walking the operation's output shape, asking for every member of every
    structure which attribute names its value may have (about 2 ms per item of a DynamoDB Query). The
    result of a DynamoDB item operation (PLAIN_DYNAMODB_RESULTS) is already the wire format (plain JSON,
    binaries as base64), so it goes to the serializer's last step directly; one that is not plain JSON (a
    datetime, bytes) takes the walk. Elsewhere the names a member may have depend only on the object's class,
    the shape and the member, so they are computed once per combination.

tests/integration/test_local_speed.py and test_moto_serializer.py check that the answers are the same, byte for
byte, with and without these patches.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any, Callable
from unittest import mock

# DynamoDB operations whose result moto builds from plain item dicts (checked against the walk in the tests).
PLAIN_DYNAMODB_RESULTS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"})
_partition = threading.local()  # (table, hash key) while this thread runs a Query on that table's key


def items_of(table: Any) -> list[Any] | None:
    """The items a Query on `table`'s key can return, sorted as moto's `all_items` sorts them, when this thread
    is inside such a Query; None otherwise (the caller then walks the whole table)."""
    hint = getattr(_partition, "query", None)
    if hint is None or hint[0] is not table:
        return None
    bucket = table.items.get(hint[1])  # .get: the items are a defaultdict, which must not grow here
    if bucket is None:
        return []
    if not table.range_key_attr:
        return [bucket]
    return sorted(list(bucket.values()), key=lambda item: item.range_key)  # list(): a snapshot, no Python code runs


def _query_one_partition(original: Callable[..., Any]) -> Callable[..., Any]:
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        _partition.query = (self, hash_key)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _partition.query = None

    return query


class _NameIndex:
    """Per list of executions (one per state machine): name → the first execution of that name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_list: dict[int, tuple[list[Any], dict[str, Any], int]] = {}

    def first(self, executions: list[Any], name: str) -> Any:
        with self._lock:
            entry = self._by_list.get(id(executions))
            if entry is None or entry[0] is not executions or entry[2] > len(executions):
                entry = (executions, {}, 0)
            held, names, seen = entry
            new = executions[seen:]  # only the executions appended since the last look (a slice copies no more)
            for execution in new:
                names.setdefault(execution.name, execution)
            self._by_list[id(executions)] = (held, names, seen + len(new))
            return names.get(name)


def _idempotency_by_name(original: Callable[..., Any], index: _NameIndex) -> Callable[..., Any]:
    def handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any:
        found = index.first(self.executions, name)
        if found is None:
            return None
        # moto's own decision on the execution it would have found first (it stops at the first of that name)
        return original(_Only(found), name, execution_input)

    return handle_name_input_idempotency


class _Only:
    """A stand-in state machine whose executions are the one execution found."""

    def __init__(self, execution: Any) -> None:
        self.executions = [execution]


def _memoized_attribute_names(original: Callable[..., Any]) -> Callable[..., Any]:
    cache: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def get_possible_keys(self: Any, context: Any) -> Any:
        obj = context.obj
        if "Meta" in getattr(obj, "__dict__", ()):  # aliases of this instance alone (moto's ExplicitAlias)
            return original(self, context)
        key = (tuple(self.alias_providers), type(obj), context.shape, context.key)
        try:
            return cache[key]
        except KeyError:
            names = cache[key] = tuple(original(self, context))
            return names
        except TypeError:  # an unhashable shape
            return original(self, context)

    return get_possible_keys


def _plain_dynamodb_results(walk: Callable[..., Any]) -> Callable[..., Any]:
    from moto import settings
    from moto.core.serialize import XFormedAttributePicker

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        if operation.name not in PLAIN_DYNAMODB_RESULTS or not _plain_json(self.result):
            return walk(self, context)
        serializer = context.serializer_class(operation_model=operation, pretty_print=settings.PRETTIFY_RESPONSES,
                                              value_picker=XFormedAttributePicker())
        resp = serializer._serialized_result_to_response(serializer._create_default_response(), self.result,
                                                         operation.output_shape, self.result)
        return resp["status_code"], resp["headers"], resp["body"]

    return execute_result


def _plain_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def patches() -> list[Any]:
    from moto.core import responses, serialize
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult
    from moto.stepfunctions.models import StateMachine

    return [
        mock.patch.object(responses, "method_names_from_class",
                          functools.lru_cache(maxsize=None)(responses.method_names_from_class)),
        mock.patch.object(Table, "query", _query_one_partition(Table.query)),
        mock.patch.object(StateMachine, "_handle_name_input_idempotency",
                          _idempotency_by_name(StateMachine._handle_name_input_idempotency, _NameIndex())),
        mock.patch.object(serialize.XFormedAttributePicker, "get_possible_keys",
                          _memoized_attribute_names(serialize.XFormedAttributePicker.get_possible_keys)),
        mock.patch.object(DynamoResult, "execute_result", _plain_dynamodb_results(DynamoResult.execute_result)),
    ]
