"""Limits counted in UTF-8 bytes, checked before anything is written, each failure naming its limit.

Probes (tests/integration/flows/limits_cards.py):
  * a 290,000-byte ASCII card: fits the version's DynamoDB item (400 KB) but not a Step Functions state
    (256 KiB): the version is made, and no task result carries the card;
  * a card of 250,000 × "é" (500,000 bytes): over the card limit of 300,000 bytes: the task fails before any
    part of the version exists;
  * a task printing 250,000 × "é": its logs are cut to fit their item, with a marker line, and it succeeds;
  * ten 31,000-byte results in a row: together over a state; the later ones travel through S3 and the run
    succeeds.
"""

from __future__ import annotations

import json

from chalicelib.runtime.publish import MAX_RESULT_BYTES, MAX_STATE_BYTES
from chalicelib.sdk.cards import MAX_CARD_BYTES
from chalicelib.store.artifacts import ArtifactStore
from chalicelib.store.artifacts import MAX_ITEM_BYTES
from chalicelib.store.registry import MAX_LOG_ITEM_BYTES
from tests.integration.conftest import load, run




def store_of(cloud, clients) -> ArtifactStore:
    return ArtifactStore(cloud.settings, clients["s3"], clients["dynamodb"])


def task_results(clients, execution_arn: str) -> list[str]:
    history = clients["stepfunctions"].get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return [e["lambdaFunctionSucceededEventDetails"]["output"] for e in history
            if e["type"] == "LambdaFunctionSucceeded"]


def objects_under(clients, bucket: str, prefix: str) -> list[str]:
    resp = clients["s3"].list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in resp.get("Contents", [])]


def test_limits_are_consistent():
    assert MAX_CARD_BYTES == 300_000 < MAX_ITEM_BYTES == MAX_LOG_ITEM_BYTES == 400_000 < 409_600  # DynamoDB: 400 KB
    assert MAX_STATE_BYTES == 262_144 and MAX_RESULT_BYTES < MAX_STATE_BYTES


def test_a_card_that_fits_the_item_but_not_a_state_makes_its_version(cloud, clients):
    report = run(cloud, load("limits_cards"), "big_card_wf")
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED", (ex.get("error"), ex.get("cause"))
    [art] = [a for a in report["artifacts"] if a["name"] == "limits_big_card"]
    stored = store_of(cloud, clients).get("limits_big_card", art["version"])
    assert stored.card["kind"] == "ModelCard" and len(stored.card["text"].encode()) == 290_000
    assert art["card"]["text"] == stored.card["text"]  # the run report reads the card from the version's item
    results = task_results(clients, ex["id"])
    assert results and all("card" not in json.loads(r)["artifacts"][0] for r in results if json.loads(r).get("artifacts"))
    assert max(len(r.encode()) for r in results) < 5_000


def test_a_card_over_the_byte_limit_fails_the_task_before_the_version_exists(cloud, clients):
    report = run(cloud, load("limits_cards"), "wide_card_wf")
    [ex] = report["executions"]
    assert ex["status"] == "FAILED"
    assert ex["error"] == "ArtifactError"
    assert "500,000 bytes" in ex["cause"] and "250,000 characters" in ex["cause"]
    assert "card limit is 300,000 bytes" in ex["cause"] and "400 KB" in ex["cause"]
    store = store_of(cloud, clients)
    assert store.versions("limits_wide_card") == []
    assert store.index.latest("limits_wide_card", {}, None) is None
    assert objects_under(clients, cloud.settings.bucket, "artifacts/limits_wide_card/") == []  # no data object either
    assert all(a["name"] != "limits_wide_card" for a in report["artifacts"])


def test_output_over_the_log_item_is_truncated_with_a_marker_and_the_run_succeeds(cloud, clients):
    report = run(cloud, load("limits_cards"), "loud_wf")
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED", (ex.get("error"), ex.get("cause"))
    [art] = [a for a in report["artifacts"] if a["name"] == "limits_loud"]
    assert store_of(cloud, clients).find("limits_loud", art["version"]) is not None
    lines = ex["logs"]
    [marker] = [line for line in lines if "bytes of output truncated" in line]
    assert marker.startswith("… ") and lines[0] == marker
    dropped = int(marker.split()[1].replace(",", ""))
    printed = len("first line\n") + 2 * 250_000 + len("\nlast line")
    kept = len("\n".join(lines[1:]).encode())
    assert dropped + kept == printed and 390_000 < kept < MAX_LOG_ITEM_BYTES
    assert lines[-1] == "last line" and set(lines[1]) == {"é"}  # the tail is kept, cut between characters
    item = clients["dynamodb"].query(
        TableName=cloud.settings.registry_table, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"EXEC#{ex['id']}"}})["Items"]
    [log_item] = [i for i in item if i["sk"]["S"].startswith("LOG#")]
    size = sum(len(k.encode()) + len(v["S"].encode()) for k, v in log_item.items())
    assert size <= MAX_LOG_ITEM_BYTES


def test_results_that_together_overflow_the_state_pass_through_s3(cloud, clients):
    report = run(cloud, load("limits_cards"), "long_chain_wf")
    [ex] = report["executions"]
    assert ex["status"] == "SUCCEEDED", (ex.get("error"), ex.get("cause"))
    [art] = [a for a in report["artifacts"] if a["name"] == "limits_chain"]
    assert store_of(cloud, clients).load(store_of(cloud, clients).get("limits_chain", art["version"])) == 31_000
    outputs = [json.loads(r)["outputs"]["o0"] for r in task_results(clients, ex["id"])]
    inline = [o for o in outputs if isinstance(o, str)]
    spilled = [o for o in outputs if isinstance(o, dict) and "$ref" in o]
    assert len(inline) >= 5 and len(spilled) >= 2, [type(o).__name__ for o in outputs]


def test_log_text_is_cut_between_characters_of_every_width():
    from chalicelib.store.registry import fit_text

    for char in ("é", "€", "😀"):  # 2, 3 and 4 bytes
        for room in range(1000, 1004):
            text = fit_text(char * 1000, room)
            marker, tail = text.split("\n", 1)
            assert set(tail) == {char} and len(tail.encode()) <= room
            assert marker == f"… {len(char.encode()) * 1000 - len(tail.encode()):,} bytes of output truncated " \
                             f"(the task printed {len(char.encode()) * 1000:,} bytes; a log item holds {room:,})"
    assert fit_text("short\nlines", 100) == "short\nlines"
    assert fit_text("a" * 50 + "\nkept", 20).endswith("\nkept")  # a cut line is dropped when a line start is near
