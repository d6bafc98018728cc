"""Cards: Markdown that travels with an artifact version (`A.create_from(value, ModelCard(md))`).

A card is stored on the version's metadata item as `{"kind": "ModelCard", "text": "..."}` and shows in the
version's report (and so in `run --json`, `artifacts show` and the lineage page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.errors import ArtifactError

# A DynamoDB item stops at 400 KB; the card shares it with the version's other attributes.
MAX_CARD_CHARS = 300_000


@dataclass(frozen=True)
class Card:
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
    if len(text) > MAX_CARD_CHARS:
        raise ArtifactError(
            f"artifact {artifact!r}: the card has {len(text)} characters; at most {MAX_CARD_CHARS} fit in the version's "
            f"metadata. Shorten it (e.g. df.head(50).to_markdown()) or store the long text as an artifact of its own"
        )
    return {"kind": "+".join(kinds), "text": text}
