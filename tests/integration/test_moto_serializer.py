"""The local cloud's faster moto responses (chalicelib/local/speed.py) are byte for byte what moto's
own serializer makes: every DynamoDB item operation, with every attribute type, and other services' responses
through the memoized attribute names."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoResult

from chalicelib.local import speed

ITEM = {"b": {"B": b"\x00\xffhello"}, "bs": {"BS": [b"a", b"\x01"]}, "n": {"N": "1.50"}, "ns": {"NS": ["1", "2"]},
        "ss": {"SS": ["x", "y"]}, "s": {"S": "ünï"}, "m": {"M": {"a": {"L": [{"NULL": True}, {"BOOL": False}]}}}}


def _exercise() -> list[Any]:
    """Every item operation's parsed response, and a few of other services."""
    c = boto3.client("dynamodb", region_name="us-east-1")
    c.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                             {"AttributeName": "sk", "KeyType": "RANGE"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")
    key = {"pk": {"S": "a"}, "sk": {"S": "00001"}}
    out: list[Any] = []
    for i in range(5):
        out.append(c.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": f"{i:05d}"}, **ITEM},
                              ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL"))
    out.append(c.put_item(TableName="t", Item={**key, "x": {"N": "1"}}, ReturnValues="ALL_OLD"))
    q = {"TableName": "t", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}
    out.append(c.query(**q))
    page = c.query(**q, Limit=2, ScanIndexForward=False, ReturnConsumedCapacity="INDEXES")
    out += [page, c.query(**q, Limit=2, ExclusiveStartKey=page["LastEvaluatedKey"]), c.query(**q, Select="COUNT")]
    out += [c.scan(TableName="t"), c.scan(TableName="t", Limit=1), c.get_item(TableName="t", Key=key),
            c.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "x"}})]
    out.append(c.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "a"}, "sk": {"S": "00003"}}]}}))
    out.append(c.update_item(TableName="t", Key=key, UpdateExpression="SET y = :y",
                             ExpressionAttributeValues={":y": {"SS": ["p"]}}, ReturnValues="ALL_NEW"))
    out.append(c.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "00002"}}, ReturnValues="ALL_OLD"))
    out.append(c.describe_table(TableName="t")["Table"]["KeySchema"])
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="serializer-check")
    s3.put_object(Bucket="serializer-check", Key="a/b.txt", Body=b"x")
    out.append(s3.list_objects_v2(Bucket="serializer-check")["Contents"][0]["Key"])
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(name="m", roleArn="arn:aws:iam::123456789012:role/r", definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    out.append(sorted(k for k in sfn.describe_state_machine(stateMachineArn=arn) if k != "ResponseMetadata"))
    return [_without_metadata(r) for r in out]


def _without_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "ResponseMetadata"}
    return value


def _patched() -> ExitStack:
    stack = ExitStack()
    for p in speed.patches():
        stack.enter_context(p)
    return stack


def test_responses_are_the_same_with_and_without_the_shortcuts():
    with mock_aws():
        expected = _exercise()  # moto's own serializer
    with _patched():
        assert DynamoResult.execute_result is not ActionResult.execute_result  # the shortcut is in place
        with mock_aws():
            got = _exercise()
    assert DynamoResult.execute_result is ActionResult.execute_result  # and undone with the patches
    assert got == expected


def test_the_shortcut_answers_byte_for_byte_as_the_walk():
    walk = ActionResult.execute_result  # moto's own: DynamoResult inherits it
    seen = []
    with _patched():
        shortcut = DynamoResult.execute_result

        def both(self: Any, context: Any) -> Any:
            fast = shortcut(self, context)
            slow = walk(self, context)
            assert fast[0] == slow[0] and fast[1] == slow[1], context.operation_model.name
            assert fast[2] == slow[2], context.operation_model.name
            seen.append(context.operation_model.name)
            return fast

        with mock.patch.object(DynamoResult, "execute_result", both), mock_aws():
            _exercise()
    assert set(seen) >= speed.PLAIN_DYNAMODB_RESULTS, seen
