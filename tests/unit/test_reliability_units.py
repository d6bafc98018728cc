"""Pure pieces of the reliability work: naming rules, the on-failure record, the claim's expiry, error classes."""

from __future__ import annotations

import json
import pytest

from chalicelib.aws import is_transient
from chalicelib.errors import InvalidNameError, MalformedRecordError
from chalicelib.events.failure import parse_failure_record
from chalicelib.sdk.charset import check_name, check_version
from chalicelib.store import claims as ledger
from tests.conftest import ROOT


def test_names_are_matched_whole_so_a_trailing_newline_is_refused():
    assert check_name("artifact", "sales") == "sales"
    with pytest.raises(InvalidNameError):
        check_name("artifact", "sales\n")
    with pytest.raises(InvalidNameError):
        check_version("20261125T150000000Z-0a1b2c3d4e\n")


def test_something_else_in_the_dead_letter_queue_is_a_malformed_record():
    with pytest.raises(MalformedRecordError):
        parse_failure_record(json.dumps({"Records": []}))
    with pytest.raises(MalformedRecordError):
        parse_failure_record(b"\xff\xfe not json")


def test_claims_expire_with_the_execution_names_and_the_table_knows_it():
    from cfnlint.decode import cfn_yaml

    assert ledger.CLAIM_TTL.days == 90
    template = cfn_yaml.load(str(ROOT / "infra" / "template.yaml"))
    assert template["Resources"]["RegistryTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at", "Enabled": True}


def test_only_throttling_and_server_errors_are_transient():
    from botocore.exceptions import ClientError

    def err(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem")

    assert is_transient(err("ProvisionedThroughputExceededException", 400))
    assert is_transient(err("SlowDown", 503)) and is_transient(err("Anything", 500))
    assert not is_transient(err("ConditionalCheckFailedException", 400))
    assert not is_transient(err("ValidationException", 400)) and not is_transient(ValueError("x"))
