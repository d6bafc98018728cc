"""Cards: Markdown that travels with an artifact version (`A.create_from(value, ModelCard(md))`).

A card is stored on the version's metadata item as `{"kind": "ModelCard", "text": "..."}` and shows in the
version's report (and so in `run --json`, `artifacts show` and the lineage page), never in a task's result.
Its limit, `MAX_CARD_BYTES`, is checked when the task returns, before anything of the version is written.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from chalicelib.errors import ArtifactError

# A DynamoDB item stops at 400 KB (409,600 bytes of UTF-8, names and values); the card shares it with the
# version's other attributes (keys, partitions, uri, producer: a few KB at most), so a card may take 300,000 of
# them. Counted in bytes as DynamoDB counts: "é" takes 2, "€" 3, an emoji 4. The card never travels through Step
# Functions (task results carry no cards), so its 256 KiB state limit does not apply.
MAX_CARD_BYTES = 300_000


class Card(Struct, frozen=True):
    """Markdown text attached to an artifact version."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ArtifactError(f"{type(self).__name__} takes Markdown text (a str); got {type(self.text).__name__}")

    def serialize_to_string(self, *_args: Any, **_kwargs: Any) -> str:
        """flytekit's SerializableToString protocol."""
        return self.text


class ModelCard(Card):
    """A card describing a model."""


class DataCard(Card):
    """A card describing a data set."""


def to_record(cards: Any, artifact: str) -> dict[str, str] | None:
    """The card(s) given to `create_from` as the item's `card` attribute; several are joined in order."""
    if not isinstance(cards, (tuple, list)):
        cards = (cards,)
    given = [c for c in cards if c is not None]
    if not given:
        return None
    kinds, texts = [], []
    for card in given:
        if isinstance(card, Card):
            kinds.append(type(card).__name__)
            texts.append(card.text)
        elif isinstance(card, str):
            kinds.append("Card")
            texts.append(card)
        elif callable(getattr(card, "serialize_to_string", None)):
            kinds.append(type(card).__name__)
            texts.append(str(card.serialize_to_string()))
        else:
            raise ArtifactError(
                f"artifact {artifact!r}: create_from got {type(card).__name__} after the value; the positional "
                f"arguments after the value are cards: pass ModelCard(markdown) or DataCard(markdown)"
            )
    text = "\n\n".join(texts)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CARD_BYTES:
        raise ArtifactError(
            f"artifact {artifact!r}: the card takes {size:,} bytes of UTF-8 ({len(text):,} characters); the card limit "
            f"is {MAX_CARD_BYTES:,} bytes, its share of the version's metadata item (DynamoDB items stop at 400 KB). "
            f"Nothing was written. Shorten it (e.g. df.head(50).to_markdown()) or store the long text as an artifact "
            f"of its own"
        )
    return {"kind": "+".join(kinds), "text": text}
