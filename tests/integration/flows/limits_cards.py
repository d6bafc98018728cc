"""Byte limits: cards and printed output near DynamoDB's 400 KB item and Step Functions' 256 KiB state.

    big_card_wf          a 290,000-byte ASCII card: fits the version's item, not a state, so it must stay out of
                         the task's result (the version is made)
    wide_card_wf         250,000 × "é": 250,000 characters, 500,000 bytes: over the card's byte limit (no version)
    loud_wf              prints 250,000 × "é" (500,000 bytes): the logs are cut to fit their item, the run succeeds
    long_chain_wf        ten tasks in a row, each returning a 31,000-byte string (under the 32 KiB inline limit):
                         together over a state, so the later ones pass theirs through S3; the run succeeds
"""

from typing_extensions import Annotated

from chalicelib import Artifact, ModelCard, task, workflow

BigCard = Artifact(name="limits_big_card")
WideCard = Artifact(name="limits_wide_card")
Loud = Artifact(name="limits_loud")
Chain = Artifact(name="limits_chain")

BIG_CARD_CHARS = 290_000
WIDE_CARD_CHARS = 250_000
LOUD_CHARS = 250_000


@task
def big_card() -> Annotated[dict, BigCard]:
    return BigCard.create_from({"rows": 1}, ModelCard("# Big\n" + "x" * (BIG_CARD_CHARS - 6)))


@workflow
def big_card_wf() -> dict:
    return big_card()


@task
def wide_card() -> Annotated[dict, WideCard]:
    return WideCard.create_from({"rows": 2}, ModelCard("é" * WIDE_CARD_CHARS))


@workflow
def wide_card_wf() -> dict:
    return wide_card()


@task
def loud() -> Annotated[dict, Loud]:
    print("first line")
    print("é" * LOUD_CHARS)
    print("last line")
    return {"rows": 3}


@workflow
def loud_wf() -> dict:
    return loud()


@task
def grow(text: str) -> str:
    return chr(ord(text[0]) + 1) * 31_000 if text else "a" * 31_000


@task
def measure(text: str) -> Annotated[int, Chain]:
    return len(text)


@workflow
def long_chain_wf() -> int:
    text = grow(text="")
    for _ in range(9):
        text = grow(text=text)
    return measure(text=text)
