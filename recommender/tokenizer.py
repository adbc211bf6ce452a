"""The recommender's vocabulary: byte-level BPE on the store's own text plus item tokens.

Structural tokens (``<bos>``, ``<purchase>``, ``<note>``, ``<now>``, ``<rec>``,
language, tier, time-gap and due tokens) come first; then the BPE vocabulary;
then one token per catalog product (``<item_0>`` ... by dense index), per
service (``<service_k>``) and per coupon (``<coupon_k>``), each kind in one
contiguous id range so scoring a kind is one slice of the logits. The counts
are stored in ``rec_layout.json`` beside the saved tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

LANGUAGES = ("en", "zh", "other")
TIERS = ("none", "bronze", "silver", "gold", "platinum")
# Gap from an event to the prediction time, coarsest last; upper bounds in days.
GAP_BUCKETS: tuple[tuple[str, float], ...] = (
    ("1d", 1),
    ("1w", 7),
    ("1m", 31),
    ("3m", 92),
    ("6m", 183),
    ("1y", 366),
    ("old", float("inf")),
)
# Time since a consumable's purchase over its repurchase cycle; upper bounds of the ratio.
# Fine around 1.0, where the demo store's re-buys fall (quartiles 0.93-1.08).
DUE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("0", 0.5),
    ("1", 0.8),
    ("2", 0.92),
    ("3", 1.0),
    ("4", 1.08),
    ("5", 1.2),
    ("6", 1.6),
    ("7", 2.5),
    ("8", float("inf")),
)
STRUCTURAL = (
    "<pad>",
    "<bos>",
    "<eos>",
    "<purchase>",
    "<note>",
    "<now>",
    "<rec>",
    "<catalog>",
    *(f"<lang_{code}>" for code in LANGUAGES),
    *(f"<tier_{tier}>" for tier in TIERS),
    *(f"<gap_{name}>" for name, _ in GAP_BUCKETS),
    *(f"<due_{name}>" for name, _ in DUE_BUCKETS),
)
LAYOUT_FILE = "rec_layout.json"


@dataclass(frozen=True)
class TokenLayout:
    """Where the structural and catalog tokens sit in the vocabulary."""

    vocab_size: int
    n_items: int
    n_services: int
    n_coupons: int
    item_offset: int
    service_offset: int
    coupon_offset: int
    structural: dict[str, int]

    def id(self, token: str) -> int:
        """Id of a structural token such as ``"<rec>"``."""
        return self.structural[token]

    def kind_range(self, kind: str) -> tuple[int, int]:
        """``(start, stop)`` token ids of ``"product"``, ``"service"`` or ``"coupon"``."""
        if kind == "product":
            return self.item_offset, self.item_offset + self.n_items
        if kind == "service":
            return self.service_offset, self.service_offset + self.n_services
        if kind == "coupon":
            return self.coupon_offset, self.coupon_offset + self.n_coupons
        raise ValueError(f"unknown kind {kind!r}")

    def item_token(self, index: int) -> int:
        """Token id of the product with dense index ``index``."""
        if not 0 <= index < self.n_items:
            raise IndexError(f"item {index} outside the catalog of {self.n_items}")
        return self.item_offset + index

    def service_token(self, index: int) -> int:
        """Token id of the service with dense index ``index``."""
        if not 0 <= index < self.n_services:
            raise IndexError(f"service {index} outside the catalog of {self.n_services}")
        return self.service_offset + index


def _catalog_tokens(n_items: int, n_services: int, n_coupons: int) -> list[str]:
    return (
        [f"<item_{i}>" for i in range(n_items)]
        + [f"<service_{i}>" for i in range(n_services)]
        + [f"<coupon_{i}>" for i in range(n_coupons)]
    )


def _layout(tokenizer: PreTrainedTokenizerBase, n_items: int, n_services: int, n_coupons: int) -> TokenLayout:
    def first(prefix: str, count: int) -> int:
        if count == 0:
            return len(tokenizer)
        ids = tokenizer.convert_tokens_to_ids([f"<{prefix}_{i}>" for i in range(count)])
        if ids != list(range(ids[0], ids[0] + count)):
            raise ValueError(f"<{prefix}_*> tokens are not one contiguous id range")
        return ids[0]

    structural = dict(zip(STRUCTURAL, tokenizer.convert_tokens_to_ids(list(STRUCTURAL)), strict=True))
    if tokenizer.unk_token_id is not None and tokenizer.unk_token_id in structural.values():
        raise ValueError("a structural token is missing from the tokenizer")
    return TokenLayout(
        vocab_size=len(tokenizer),
        n_items=n_items,
        n_services=n_services,
        n_coupons=n_coupons,
        item_offset=first("item", n_items),
        service_offset=first("service", n_services),
        coupon_offset=first("coupon", n_coupons),
        structural=structural,
    )


def train_tokenizer(
    texts: Iterable[str],
    *,
    n_items: int,
    n_services: int = 0,
    n_coupons: int = 0,
    vocab_size: int = 3000,
    min_frequency: int = 2,
) -> tuple[PreTrainedTokenizerFast, TokenLayout]:
    """Train byte-level BPE on ``texts`` (Chinese and English alike) and add the catalog tokens.

    Byte-level pre-tokenization means any text, in any script, encodes
    without unknown tokens; Chinese characters absent from the training text
    fall back to their UTF-8 bytes.
    """
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(STRUCTURAL),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    core.add_special_tokens(_catalog_tokens(n_items, n_services, n_coupons))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>"
    )
    return tokenizer, _layout(tokenizer, n_items, n_services, n_coupons)


def extend_tokenizer(
    tokenizer: PreTrainedTokenizerBase, *, n_items: int, n_services: int = 0, n_coupons: int = 0
) -> tuple[PreTrainedTokenizerBase, TokenLayout]:
    """Add the structural and catalog tokens to a pretrained base's own tokenizer."""
    tokenizer.add_special_tokens(
        {"additional_special_tokens": list(STRUCTURAL)}, replace_extra_special_tokens=False
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = "<pad>"
    tokenizer.add_tokens(_catalog_tokens(n_items, n_services, n_coupons), special_tokens=True)
    return tokenizer, _layout(tokenizer, n_items, n_services, n_coupons)


def save_tokenizer(tokenizer: PreTrainedTokenizerBase, layout: TokenLayout, directory: str | Path) -> None:
    """Save the tokenizer (transformers format) and its layout."""
    directory = Path(directory)
    tokenizer.save_pretrained(directory)
    (directory / LAYOUT_FILE).write_text(json.dumps(asdict(layout), indent=2) + "\n", encoding="utf-8")


def load_tokenizer(directory: str | Path) -> tuple[PreTrainedTokenizerBase, TokenLayout]:
    """Load a tokenizer saved by ``save_tokenizer`` and check its layout still holds."""
    directory = Path(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    saved = json.loads((directory / LAYOUT_FILE).read_text(encoding="utf-8"))
    layout = _layout(tokenizer, saved["n_items"], saved["n_services"], saved["n_coupons"])
    if asdict(layout) != saved:
        raise ValueError(f"tokenizer in {directory} does not match its {LAYOUT_FILE}")
    return tokenizer, layout
