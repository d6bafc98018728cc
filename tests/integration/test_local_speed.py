"""The local cloud's speed patches of moto (chalicelib/local/speed.py) give the answers moto gives without them.

Each scenario runs twice on a fresh moto, once with the patches and once without (both with the local cloud's
snapshot of a table's items, which it always uses), and every response is compared whole.
"""

from __future__ import annotations

import json
import random
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator
from unittest import mock

import pytest

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_DEFAULT_REGION": REGION}


@contextmanager
def moto(patched: bool) -> Iterator[None]:
    from moto import mock_aws
    from moto.dynamodb.models.table import Table

    from chalicelib.local import speed
    from chalicelib.local.cloud import _all_items_snapshot

    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict("os.environ", CREDENTIALS))
        stack.enter_context(mock_aws())
        stack.enter_context(mock.patch.object(Table, "all_items", _all_items_snapshot))
        if patched:
            for p in speed.patches():
                stack.enter_context(p)
        yield


def both(scenario: Callable[[], list[Any]]) -> tuple[list[Any], list[Any]]:
    with moto(patched=True):
        fast = scenario()
    with moto(patched=False):
        plain = scenario()
    return fast, plain


def _answer(call: Callable[[], dict[str, Any]]) -> Any:
    try:
        resp = call()
    except Exception as exc:  # the error is part of the answer
        return {"error": getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)}
    resp.pop("ResponseMetadata", None)
    return resp


def _tables(ddb: Any) -> None:
    ddb.create_table(TableName="ranged", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"},
                                           {"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                              "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                            {"AttributeName": "sk", "KeyType": "RANGE"}]}])
    ddb.create_table(TableName="numbered", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "n", "AttributeType": "N"}])
    ddb.create_table(TableName="hashed", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])


def _fill(ddb: Any, rng: random.Random) -> None:
    for i in range(500):
        pk = f"p{rng.randrange(12):02d}"
        ddb.put_item(TableName="ranged", Item={
            "pk": {"S": pk}, "sk": {"S": f"{rng.choice('abc')}#{rng.randrange(10_000):05d}"},
            "g": {"S": f"g{i % 3}"}, "v": {"N": str(rng.randrange(100))}, "blob": {"S": "x" * rng.randrange(2_000)},
        })
        ddb.put_item(TableName="numbered", Item={"pk": {"S": pk}, "n": {"N": str(rng.randrange(-500, 500))},
                                                  "v": {"N": str(i)}})
        ddb.put_item(TableName="hashed", Item={"pk": {"S": f"h{i:04d}"}, "v": {"N": str(i)}})
    for i in range(0, 500, 7):  # deletions leave partitions that are empty or thinner
        ddb.delete_item(TableName="hashed", Key={"pk": {"S": f"h{i:04d}"}})
    ddb.get_item(TableName="ranged", Key={"pk": {"S": "never"}, "sk": {"S": "never"}})


def _all_pages(ddb: Any, **kwargs: Any) -> list[Any]:
    pages = []
    while True:
        page = _answer(lambda: ddb.query(**kwargs))
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dynamodb_scenario() -> list[Any]:
    import boto3

    ddb = boto3.client("dynamodb", region_name=REGION)
    _tables(ddb)
    _fill(ddb, random.Random(7))
    out: list[Any] = []
    for pk in ["p00", "p05", "p11", "missing"]:
        key = {":pk": {"S": pk}}
        out.append(_all_pages(ddb, TableName="ranged", KeyConditionExpression="pk = :pk", ExpressionAttributeValues=key))
        out.append(_all_pages(ddb, TableName="ranged", KeyConditionExpression="pk = :pk", ExpressionAttributeValues=key,
                              ScanIndexForward=False, Limit=17))
        out.append(_all_pages(ddb, TableName="ranged", KeyConditionExpression="pk = :pk AND begins_with(sk, :b)",
                              ExpressionAttributeValues={**key, ":b": {"S": "b#"}}, Limit=9))
        out.append(_all_pages(ddb, TableName="ranged", KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
                              ExpressionAttributeValues={**key, ":lo": {"S": "a#02000"}, ":hi": {"S": "c#01000"},
                                                         ":v": {"N": "50"}},
                              FilterExpression="v > :v", ProjectionExpression="sk, v"))
        out.append(_all_pages(ddb, TableName="ranged", KeyConditionExpression="pk = :pk AND sk > :s",
                              ExpressionAttributeValues={**key, ":s": {"S": "b#05000"}}, Select="COUNT"))
        out.append(_all_pages(ddb, TableName="numbered", KeyConditionExpression="pk = :pk AND n < :n",
                              ExpressionAttributeValues={**key, ":n": {"N": "10"}}, ScanIndexForward=False, Limit=50))
        out.append(_all_pages(ddb, TableName="numbered", KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues=key, ConsistentRead=True))
    out.append(_all_pages(ddb, TableName="ranged", IndexName="by_g", KeyConditionExpression="g = :g",
                          ExpressionAttributeValues={":g": {"S": "g1"}}, Limit=100))
    for pk in ["h0001", "h0007", "h0499", "nope"]:
        out.append(_all_pages(ddb, TableName="hashed", KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues={":pk": {"S": pk}}))
    out.append(_answer(lambda: ddb.query(TableName="ranged", KeyConditionExpression="pk = :pk",
                                         ExpressionAttributeValues={":pk": {"N": "1"}})))  # wrong key type
    out.append(_answer(lambda: ddb.query(TableName="nosuch", KeyConditionExpression="pk = :pk",
                                         ExpressionAttributeValues={":pk": {"S": "p00"}})))
    return out


def test_dynamodb_queries_answer_as_moto_does() -> None:
    fast, plain = both(dynamodb_scenario)
    assert len(fast) == len(plain)
    for i, (a, b) in enumerate(zip(fast, plain)):
        assert a == b, f"answer {i} differs"
    assert sum(len(p.get("Items", [])) for pages in fast[:7] if isinstance(pages, list) for p in pages) > 100


def sfn_scenario() -> list[Any]:
    import boto3

    sfn = boto3.client("stepfunctions", region_name=REGION)
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    role = "arn:aws:iam::123456789012:role/states"
    machines = [sfn.create_state_machine(name=f"m{i}", definition=definition, roleArn=role)["stateMachineArn"]
                for i in range(2)]
    rng = random.Random(3)
    out: list[Any] = []
    started: list[str] = []
    for step in range(300):
        arn = rng.choice(machines)
        name = f"run-{rng.randrange(80)}"
        payload = json.dumps({"x": rng.randrange(2)})
        if step % 25 == 24 and started:  # close one, so that its name can no longer be reused
            victim = started[rng.randrange(len(started))]
            out.append(_answer(lambda: sfn.stop_execution(executionArn=victim)).keys())
        resp = _answer(lambda: sfn.start_execution(stateMachineArn=arn, name=name, input=payload))
        if "executionArn" in resp:
            started.append(resp["executionArn"])
        out.append({k: v for k, v in resp.items() if k != "startDate"})
    for arn in machines:
        out.append(sorted((e["name"], e["status"]) for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=arn) for e in page["executions"]))
    return out


def test_start_execution_names_answer_as_moto_does() -> None:
    fast, plain = both(sfn_scenario)
    assert fast == plain
    answers = [a for a in fast if isinstance(a, dict)]
    assert any(a.get("error") == "ExecutionAlreadyExists" for a in answers)
    assert len({a["executionArn"] for a in answers if "executionArn" in a}) < len(answers)  # idempotent repeats


@pytest.mark.parametrize("rows", [0, 1])
def test_a_query_reads_no_more_than_its_partition(rows: int) -> None:
    """With the patch, a Query of a partition does not read the rest of the table (checked through the items
    moto is handed), which is what keeps a long-running local cloud's Queries flat."""
    import boto3
    from moto.dynamodb.models.table import Table

    from chalicelib.local import speed

    with moto(patched=True):
        ddb = boto3.client("dynamodb", region_name=REGION)
        _tables(ddb)
        for i in range(300):
            ddb.put_item(TableName="ranged", Item={"pk": {"S": f"p{i}"}, "sk": {"S": "s"}, "g": {"S": "g"}})
        for i in range(rows):
            ddb.put_item(TableName="ranged", Item={"pk": {"S": "mine"}, "sk": {"S": f"s{i}"}, "g": {"S": "g"}})
        seen: list[int] = []
        original = Table.all_items

        def counted(table: Any) -> list[Any]:
            items = original(table)
            seen.append(len(items))
            return items

        with mock.patch.object(Table, "all_items", counted):
            resp = ddb.query(TableName="ranged", KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": "mine"}})
        assert resp["Count"] == rows
        assert seen == [rows]
        assert speed.items_of(object()) is None  # outside a Query, nothing is narrowed
