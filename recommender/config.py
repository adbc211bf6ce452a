"""Typed training configuration of the GPT recommender, with named presets.

Every knob is a field of ``TrainConfig`` with its meaning beside it; a
preset changes only what differs from the defaults. The resolved config is
written as ``config.json`` next to the artifacts and stored inside every
checkpoint, so loading rebuilds exactly what was trained.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what is trained and how (defaults = ``small``)."""

    preset: str = "small"  # name of the preset this config was resolved from
    seed: int = 7  # seeds python, numpy and torch; same seed + data = same model

    # --- tokenizer ---
    bpe_vocab_size: int = 1500  # byte-level BPE vocabulary trained on the store's own text
    bpe_min_frequency: int = 2  # a merge must be seen this often

    # --- model (GPT-2 family, built from scratch unless a base_model path is given) ---
    n_layer: int = 3
    n_head: int = 4
    n_embd: int = 128
    context_tokens: int = 128  # token budget of one serialized history (model's n_positions)
    dropout: float = 0.1
    scale_item_embeddings: bool = False  # input token embeddings times sqrt(n_embd) before positions are added (SASRec's scaling; the tied output head is unscaled)

    # --- serialization ---
    max_note_tokens: int = 32  # each consultation note is cut to this many text tokens
    max_conversation_tokens: int = 32  # the current conversation keeps its last this many tokens
    purchase_marker: bool = True  # write <purchase> before each item token; without it a purchase is its item token alone
    note_max_age_days: float | None = 30.0  # consultation notes older than this at prediction time are left out (None = keep all)
    note_outcome_days: float = 7.0  # a purchase this soon after a consultation note is that note's outcome (see below)
    end_markers: bool = True  # close an input without conversation with "<now> <rec>"; False ends it at its last event, so the next item is read where training reads every earlier one (item-only data)
    gap_tokens: bool = True  # write <gap_*> tokens (the time from an event to the prediction); False for made-up times (a sequence file's one purchase a day)
    profile_services: int = 0  # header lists the customer's this-many most taken services (0 = no service profile)

    # --- step 1: self-supervised pretraining of the base ---
    pretrain_epochs: int = 2  # passes over the corpus (catalog, notes, serialized train histories)
    pretrain_batch_size: int = 32
    pretrain_lr: float = 3e-3
    pretrain_cuts_per_history: int = 2  # serialized prefixes of each train history in the corpus
    pretrain_item_weight: float = 4.0  # LM-loss weight of item-token targets (text tokens weigh 1)
    pretrain_note_outcomes: bool = True  # add "note text -> outcome purchase" pairs, as past note and as current conversation
    pretrain_structural_targets: bool = True  # markers (<gap_*>, <rec>, <purchase>...) are LM targets too; False spends each step on item and text targets only
    pretrain_patience: int | None = None  # validate next-item NDCG@10 after each epoch, keep the best, stop after this many without a better one (None = no validation, every epoch runs)

    # --- step 2: LoRA fine-tuning on next-item prediction ---
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    finetune_epochs: int = 10  # upper bound; early stopping on validation NDCG@10 usually ends sooner
    finetune_batch_size: int = 32
    finetune_lr: float = 5e-3
    finetune_cuts_per_history: int = 1  # serialized prefixes per train history per epoch (latest always); every purchase inside one is a target
    finetune_note_cuts: int = 3  # extra prefixes per train history per epoch, each ending at a purchase that was a note's outcome
    text_target_weight: float = 5.0  # loss weight of next-item targets right after consultation text (others weigh 1)
    patience: int = 2  # epochs without a better validation NDCG@10 before stopping
    copy_head_dim: int = 64  # width of the repeat (copy) head's query/key; 0 = no copy head
    copy_head_explore_new_only: bool = False  # the LM's own distribution covers only products not in the input (RepeatNet)
    copy_gate_prior: bool = False  # start the copy head's repeat gate at the train histories' repeat rate (else at one half)
    service_loss_weight: float = 1.0  # weight of next-service cross-entropy (over service tokens) beside next-product loss
    finetune_service_cuts: int = 1  # prefixes per train history per epoch ending at a service take ("<rec> <service_k>")
    service_query_max_days: float = 14.0  # such a prefix is asked between 1 minute and this long after its order

    # --- shared optimisation ---
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05  # linear warm-up, then cosine decay, per step
    grad_clip: float = 1.0
    eval_batch_size: int = 64
    max_valid_examples: int | None = 500  # early stopping scores a fixed random subset of valid (None = all)
    torch_threads: int | None = None  # CPU threads for torch (None = torch's default); 1 is fastest on a busy box
    max_pretrain_minutes: float | None = None  # wall-clock cap on step 1 (None = no cap)
    max_finetune_minutes: float | None = None  # wall-clock cap on step 2 (None = no cap)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain JSON-able dict."""
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        """Write the resolved config as pretty JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Rebuild a config; unknown keys are an error, so a typo never becomes a default."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a config written by ``save``; keys it predates take the values that behave as it was trained."""
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_dict({**BEFORE_KEY_EXISTED, **values})


#: What a model saved before a key existed was trained with (``TrainConfig.load`` fills them in), so an
#: older model keeps reading its inputs the way it learned them rather than under today's defaults.
BEFORE_KEY_EXISTED: dict[str, Any] = {
    "purchase_marker": True,
    "note_max_age_days": None,
    "note_outcome_days": 7.0,
    "pretrain_note_outcomes": False,
    "finetune_note_cuts": 0,
    "text_target_weight": 1.0,
    "profile_services": 0,
    "end_markers": True,
    "gap_tokens": True,
    "scale_item_embeddings": False,
    "copy_gate_prior": False,
}


# Presets list only what differs from the defaults above (which are ``small``).
PRESETS: dict[str, dict[str, Any]] = {
    # Unit tests: trains in seconds on tiny data.
    "tiny": dict(
        bpe_vocab_size=600,
        bpe_min_frequency=1,
        n_layer=1,
        n_head=2,
        n_embd=32,
        context_tokens=96,
        dropout=0.0,
        max_note_tokens=24,
        max_conversation_tokens=16,
        pretrain_epochs=2,
        pretrain_batch_size=16,
        pretrain_lr=5e-3,
        pretrain_cuts_per_history=2,
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        finetune_epochs=3,
        finetune_batch_size=8,
        finetune_lr=3e-3,
        finetune_cuts_per_history=2,
        patience=3,
    ),
    # The demo store on a 2-core CPU: pretraining + fine-tuning in at most 15 minutes.
    # One torch thread: on the shared 2-core box two threads ran about 10x slower (oversubscription).
    # The schedules are sized for what fits unloaded (2 + 8 epochs); the caps keep a busy box within 15 minutes.
    "small": dict(pretrain_epochs=2, finetune_epochs=8, patience=3, max_valid_examples=1000,
                  max_pretrain_minutes=6.5, max_finetune_minutes=7.5, torch_threads=1),
    # Item-only sequence files (no text), e.g. Amazon Beauty. The model is sized and regularised like the
    # SASRec it must beat (2 layers, hidden 64, dropout 0.5, ~50 items of context, batch 256): sparse item
    # data overfits a wider model. Its learning rate is twice SASRec's (better on Beauty's validation at equal
    # epochs, results/eval/beauty-items-lr2). Pretraining on whole train histories (one cut: every purchase
    # of it is a next-item target in one pass) is where it learns; it runs to its best validation NDCG@10
    # (patience 8) within its time cap, then LoRA fine-tunes on top, kept only if validation improves.
    # No <purchase> marker: an item token is unambiguous and the marker would double every sequence.
    # No end markers: the next item is read at the last purchase, as training reads it at every earlier one
    # (with "<now> <rec>" closing the input, validation NDCG@10 after 7 epochs was 0.021 instead of 0.028).
    # No gap tokens: a sequence file's times are made up (one purchase a day), so a gap only says how far back
    # an item sits (validation NDCG@10 0.0462 without them, 0.0443 with; results/eval/beauty-items-nogap, -open).
    # Input item embeddings scaled by sqrt(64) as in SASRec: Beauty's validation NDCG@10 after 5 epochs 0.036
    # instead of 0.024, best base 0.0489 instead of 0.0461 (results/eval/beauty-items-copy-scale, -copy).
    # A copy head whose explore distribution leaves out what is already in the input (RepeatNet), its gate
    # starting at the train data's repeat rate: nobody in Beauty or MovieLens buys (rates) twice, and a tied
    # output embedding otherwise ranks the items just seen high. On Beauty's validation the untrained adapter
    # then scores 0.0666 against the base's 0.0489 (results/eval/beauty-items-fixed).
    # Markers are not LM targets and the BPE vocabulary is minimal: the softmax over the
    # vocabulary is most of a step, and there is no text to spell. Warm-up is about one epoch of 200.
    "items": dict(purchase_marker=False, context_tokens=64, n_layer=2, n_head=2, n_embd=64, dropout=0.5,
                  scale_item_embeddings=True, copy_head_dim=64, copy_head_explore_new_only=True,
                  copy_gate_prior=True, bpe_vocab_size=300, pretrain_structural_targets=False, pretrain_epochs=200,
                  end_markers=False, gap_tokens=False, pretrain_batch_size=256, pretrain_lr=2e-3,
                  pretrain_cuts_per_history=1, pretrain_patience=8, finetune_epochs=40, finetune_batch_size=256,
                  finetune_lr=1e-3, finetune_cuts_per_history=1, patience=3, max_valid_examples=5000,
                  warmup_fraction=0.005, max_pretrain_minutes=45.0, max_finetune_minutes=20.0, torch_threads=1),
    # A GPU: bigger model, longer context, more epochs.
    "base": dict(
        bpe_vocab_size=8000,
        n_layer=8,
        n_head=8,
        n_embd=512,
        context_tokens=512,
        max_note_tokens=96,
        max_conversation_tokens=128,
        pretrain_epochs=20,
        pretrain_batch_size=64,
        pretrain_lr=6e-4,
        pretrain_cuts_per_history=8,
        lora_r=32,
        lora_alpha=64,
        finetune_epochs=30,
        finetune_batch_size=64,
        finetune_lr=5e-4,
        finetune_cuts_per_history=8,
        patience=4,
        eval_batch_size=256,
    ),
}


class OverrideError(ValueError):
    """A ``KEY=VALUE`` override names no config field or has a value of the wrong type."""


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["finetune_epochs=20", "max_finetune_minutes=none"]`` as typed ``TrainConfig`` overrides.

    Each value is read as its field's type (int, float, bool as true/false, str);
    ``none`` is accepted where the field may be None.

    Raises:
        OverrideError: A pair without ``=``, an unknown key, or a value its field cannot take (the message names it).
    """
    hints = typing.get_type_hints(TrainConfig)
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise OverrideError(f"override {pair!r} is not KEY=VALUE")
        if key not in hints:
            raise OverrideError(f"override {key!r} is not a config key; see recommender/config.py TrainConfig")
        kinds = typing.get_args(hints[key]) or (hints[key],)
        if raw.lower() in ("none", "null"):
            if type(None) not in kinds:
                raise OverrideError(f"override {key!r} cannot be none")
            parsed[key] = None
            continue
        kind = next(k for k in kinds if k is not type(None))
        try:
            if kind is bool:
                if raw.lower() not in ("true", "false"):
                    raise ValueError(raw)
                parsed[key] = raw.lower() == "true"
            else:
                parsed[key] = kind(raw)
        except ValueError as error:
            raise OverrideError(f"override {key!r} needs a value of type {kind.__name__}, got {raw!r}") from error
    return parsed


def preset(name: str, **overrides: Any) -> TrainConfig:
    """The config of preset ``name`` with keyword ``overrides`` applied on top."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return TrainConfig.from_dict({**PRESETS[name], **overrides, "preset": name})
