"""The local cloud's faster moto responses (chalicelib/local/serializer_speed.py) are byte for byte what moto's
own serializer makes: every DynamoDB item operation, with every attribute type, and other services' responses
through the memoized attribute names."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws
from moto.core import serialize
from moto.dynamodb.responses import DynamoResult

from chalicelib.local import serializer_speed

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


def test_responses_are_the_same_with_and_without_the_shortcuts():
    # moto's own serializer: the patched functions are restored after the first round
    walk_pick = serialize.XFormedAttributePicker.get_possible_keys
    walk_result = DynamoResult.execute_result
    with mock_aws():
        expected = _exercise()
    was_applied = serializer_speed._applied
    serializer_speed._applied = False
    serializer_speed.apply()
    try:
        assert DynamoResult.execute_result is not walk_result  # the shortcut is in place for the second round
        with mock_aws():
            got = _exercise()
    finally:
        if not was_applied:
            serialize.XFormedAttributePicker.get_possible_keys = walk_pick
            DynamoResult.execute_result = walk_result
        serializer_speed._applied = was_applied
    assert got == expected


def test_the_shortcut_answers_byte_for_byte_as_the_walk():
    serializer_speed.apply()
    shortcut = DynamoResult.execute_result
    seen = []

    def both(self: Any, context: Any) -> Any:
        fast = shortcut(self, context)
        slow = walk(self, context)
        assert fast[0] == slow[0] and fast[1] == slow[1], context.operation_model.name
        assert fast[2] == slow[2], context.operation_model.name
        seen.append(context.operation_model.name)
        return fast

    from moto.core.responses import ActionResult

    walk = ActionResult.execute_result  # moto's own: DynamoResult inherits it
    DynamoResult.execute_result = both
    try:
        with mock_aws():
            _exercise()
    finally:
        DynamoResult.execute_result = shortcut
    assert set(seen) >= serializer_speed.PLAIN_DYNAMODB_RESULTS, seen
