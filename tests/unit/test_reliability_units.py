"""Pure pieces of the reliability work: naming rules, the on-failure record, the claim's expiry, error classes."""

from __future__ import annotations

import json
import pytest

from chalicelib.aws import is_transient
from chalicelib.errors import CascadeError, InvalidNameError, MalformedRecordError
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


def test_a_claim_entry_round_trips_inline_compressed_and_split_within_the_item_limit():
    import os

    def requests(n: int, noise: int = 0) -> list[dict]:
        return [{"launch_plan": f"lp_{i:05d}", "state_machine_arn": "arn:aws:states:us-east-1:1:stateMachine:m",
                 "name": f"lp_{i:05d}-{i:016x}", "input": {"meta": {"launch_plan": f"lp_{i:05d}"},
                                                          "inputs": {"blob": os.urandom(noise).hex()}}}
                for i in range(n)]

    small = requests(2)
    attrs, parts = ledger.encode(small)
    assert json.loads(attrs["requests"]) == small and parts == []  # small claims stay readable JSON

    many = requests(5_000)
    attrs, parts = ledger.encode(many)
    assert "requests" not in attrs and parts == [] and len(attrs["packed"]) < ledger.SLICE_BYTES
    assert ledger.decode(attrs, {}) == many

    noisy = requests(1_000, noise=1_000)  # ~1 MB compressed (random hex): an entry and its parts
    attrs, parts = ledger.encode(noisy)
    assert attrs["parts"] == len(parts) + 1 >= 3
    assert all(len(p) <= ledger.SLICE_BYTES for p in [attrs["packed"], *parts])
    assert ledger.SLICE_BYTES + 10_000 < ledger.ITEM_LIMIT == 400 * 1024
    assert ledger.decode(attrs, dict(enumerate(parts, start=1))) == noisy
    with pytest.raises(CascadeError, match="part"):
        ledger.decode(attrs, dict(enumerate(parts[:-1], start=1)))


def test_only_launch_plans_without_a_recorded_run_are_claimed_again():
    recorded = [{"launch_plan": "a", "name": "a-1"}, {"launch_plan": "b", "name": "b-1"}]
    wanted = [{"launch_plan": "a", "name": "a-2"}, {"launch_plan": "c", "name": "c-1"}]
    assert ledger.missing(recorded, wanted) == [{"launch_plan": "c", "name": "c-1"}]
    assert ledger.namespace("") == "RUNS" and ledger.namespace("s1") != ledger.namespace("s2")
    assert ledger.claim_key("x", "v", "s1")["pk"] == ledger.claim_key("x", "v")["pk"]
