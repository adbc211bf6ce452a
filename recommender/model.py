"""Building the base model and the ONE place that turns a base into a PEFT (LoRA) model.

A base is either a GPT-2 built from a preset with the tokenizer's vocabulary
(pretrained here on the store's corpus) or any local Hugging Face causal-LM
checkpoint (``base_model`` path), whose embeddings are resized for the added
item tokens. Adapters are saved apart from the base, one named adapter per
refresh; several can sit on one base.

Item tokens train with the adapter through peft's ``trainable_token_indices``
(a sparse delta on just those rows of the input embedding, tied to GPT-2's
output head) rather than ``modules_to_save`` on the whole embedding: the
adapter then stores ``n_catalog x hidden`` numbers, not a copy of the full
vocabulary matrix, and text-token embeddings stay frozen.
"""

from __future__ import annotations

from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel, PreTrainedModel

from recommender.config import TrainConfig
from recommender.copy_head import CopyHead, item_log_probs
from recommender.tokenizer import DUE_BUCKETS, TokenLayout

# Attention projections by architecture family, tried in this order.
_ATTENTION_NAMES = ("c_attn", "c_proj", "q_proj", "k_proj", "v_proj", "o_proj", "query_key_value", "dense", "Wqkv", "out_proj")


def build_base(config: TrainConfig, layout: TokenLayout) -> GPT2LMHeadModel:
    """A fresh GPT-2 sized by ``config`` over the tokenizer's whole vocabulary."""
    torch.manual_seed(config.seed)
    gpt_config = GPT2Config(
        vocab_size=layout.vocab_size,
        n_positions=config.context_tokens + 8,  # room for the target token after a full prefix
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        resid_pdrop=config.dropout,
        embd_pdrop=config.dropout,
        attn_pdrop=config.dropout,
        bos_token_id=layout.id("<bos>"),
        eos_token_id=layout.id("<eos>"),
        pad_token_id=layout.id("<pad>"),
        tie_word_embeddings=True,
    )
    # Saved in the checkpoint's config.json, so every load re-applies it (``attach_embedding_scale``).
    gpt_config.input_embedding_multiplier = config.n_embd**0.5 if config.scale_item_embeddings else 1.0
    return attach_embedding_scale(GPT2LMHeadModel(gpt_config))


def attach_embedding_scale(model: PreTrainedModel) -> PreTrainedModel:
    """Make ``model``'s transformer multiply its input token embeddings by ``config.input_embedding_multiplier``.

    GPT-2 has no such setting, so a forward pre-hook on the transformer turns
    ``input_ids`` into scaled ``inputs_embeds``. It goes through the
    transformer's current input embedding (a peft wrapper with catalog-token
    deltas included), and leaves the tied output head unscaled, as SASRec
    does. Idempotent; a model without the setting (or with 1.0) is left as is.
    Every path that builds or loads a base calls it.
    """
    multiplier = float(getattr(model.config, "input_embedding_multiplier", 1.0) or 1.0)
    transformer = getattr(model, "transformer", None)
    if multiplier == 1.0 or transformer is None or getattr(transformer, "_embedding_scale_hook", None):
        return model

    def scale_inputs(module: torch.nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        input_ids = kwargs.pop("input_ids", None)
        if input_ids is None and args:
            input_ids, args = args[0], args[1:]
        if input_ids is not None:
            kwargs["inputs_embeds"] = module.get_input_embeddings()(input_ids) * multiplier
        return args, kwargs

    transformer._embedding_scale_hook = transformer.register_forward_pre_hook(scale_inputs, with_kwargs=True)
    return model


def open_base(path: str | Path) -> PreTrainedModel:
    """A saved causal LM as it was trained: ``from_pretrained`` plus its input embedding scale, if any.

    The one way every caller (training resume, ``GPTRecommender.load``, the
    server's adapter swap) reopens a base.
    """
    return attach_embedding_scale(AutoModelForCausalLM.from_pretrained(path))


def load_base(path: str | Path, layout: TokenLayout) -> PreTrainedModel:
    """A local causal-LM checkpoint, its embeddings resized to the tokenizer's vocabulary."""
    model = open_base(path)
    if model.get_input_embeddings().num_embeddings != layout.vocab_size:
        model.resize_token_embeddings(layout.vocab_size)
    model.config.pad_token_id = layout.id("<pad>")
    return model


def lora_targets(model: torch.nn.Module) -> tuple[list[str], bool]:
    """Attention projection names to adapt, and whether they are GPT-2 ``Conv1D`` (fan-in first)."""
    if isinstance(model, GPT2LMHeadModel) or getattr(model.config, "model_type", "") == "gpt2":
        return ["c_attn", "c_proj"], True
    leaf_names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    found = [name for name in _ATTENTION_NAMES if name in leaf_names]
    if not found:
        raise ValueError(f"no known attention projection among linear layers {sorted(leaf_names)[:20]}")
    return found, False


def catalog_token_ids(layout: TokenLayout) -> list[int]:
    """Every product, service and coupon token id (they train with the adapter)."""
    ids: list[int] = []
    for kind in ("product", "service", "coupon"):
        start, stop = layout.kind_range(kind)
        ids.extend(range(start, stop))
    return ids


def add_adapter(base: PreTrainedModel, config: TrainConfig, layout: TokenLayout, *,
                repeat_prior: float | None = None) -> PeftModel:
    """Wrap ``base`` in a fresh LoRA adapter whose catalog-token embeddings (and copy head) also train.

    ``repeat_prior``: the train data's repeat rate; with ``config.copy_gate_prior`` the copy head's gate starts there.
    """
    targets, fan_in_fan_out = lora_targets(base)
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        fan_in_fan_out=fan_in_fan_out,
        trainable_token_indices=catalog_token_ids(layout),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, lora)
    if config.copy_head_dim:
        torch.manual_seed(config.seed)
        head = CopyHead(base.config.hidden_size, config.copy_head_dim, config.copy_head_explore_new_only)
        if config.copy_gate_prior:
            if repeat_prior is None:
                raise ValueError("copy_gate_prior needs the train data's repeat rate (repeat_prior)")
            head.start_gate_at(repeat_prior)
        model.add_module("copy_head", head.to(next(base.parameters()).device))
    return model


def copy_head_of(model: torch.nn.Module) -> CopyHead | None:
    """The copy head attached to ``model`` by ``add_adapter`` / ``load_adapter``, if any."""
    head = getattr(model, "_modules", {}).get("copy_head")
    return head if isinstance(head, CopyHead) else None


def save_adapter(model: PeftModel, directory: str | Path) -> None:
    """Save only the adapter (LoRA weights + catalog-token deltas + copy head), apart from the base."""
    model.save_pretrained(directory)
    head = copy_head_of(model)
    if head is not None:
        head.save(directory)


def load_adapter(base: PreTrainedModel, directory: str | Path, *, trainable: bool = False) -> PeftModel:
    """Put a saved adapter (and its copy head, when it has one) back on ``base``."""
    model = PeftModel.from_pretrained(base, directory, is_trainable=trainable)
    head = CopyHead.load(directory)
    if head is not None:
        head.requires_grad_(trainable)
        model.add_module("copy_head", head.to(next(base.parameters()).device))
    return model


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def pick_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def causal_lm_of(model: torch.nn.Module) -> PreTrainedModel:
    """The causal LM inside a PEFT model (or ``model`` itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def next_product_log_probs(model: torch.nn.Module, batch: dict[str, torch.Tensor], layout: TokenLayout,
                           rows: torch.Tensor | None = None, positions: torch.Tensor | None = None,
                           hidden: torch.Tensor | None = None) -> torch.Tensor:
    """Log-probabilities ``[n, n_items]`` of the next product predicted at ``(rows, positions)``.

    Defaults to the last position (``<rec>``) of every row of a left-padded
    batch. The copy head, when the model has one, mixes its repeat
    distribution in (``recommender.copy_head``). ``hidden``: the transformer's
    last hidden states of ``batch`` when the caller already has them.
    """
    causal_lm = causal_lm_of(model)
    if hidden is None:
        hidden = causal_lm.base_model(**batch).last_hidden_state
    if rows is None or positions is None:
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        positions = torch.full_like(rows, hidden.shape[1] - 1)
    closing = torch.tensor([layout.id(f"<due_{name}>") for name, _ in DUE_BUCKETS], device=hidden.device)
    return item_log_probs(hidden, batch["input_ids"], batch["attention_mask"], rows, positions,
                          causal_lm.get_output_embeddings(), layout.kind_range("product"), closing, copy_head_of(model))


def service_log_probs(model: torch.nn.Module, states: torch.Tensor, layout: TokenLayout) -> torch.Tensor:
    """Log-probabilities ``[n, n_services]`` of the next service after hidden ``states`` ``[n, hidden]``.

    A softmax over the service tokens alone: which service, given that one is taken.
    """
    start, stop = layout.kind_range("service")
    return torch.log_softmax(causal_lm_of(model).get_output_embeddings()(states)[:, start:stop].float(), dim=-1)


def kind_logits(
    model: torch.nn.Module, batch: dict[str, torch.Tensor], layout: TokenLayout, kind: str = "product"
) -> torch.Tensor:
    """Scores ``[batch, n_kind]`` over one kind's tokens at the last position (``<rec>``) of a left-padded batch.

    Products get normalised log-probabilities (with the copy head's repeat
    mixture); services and coupons the LM's raw logits.
    """
    if kind == "product":
        return next_product_log_probs(model, batch, layout)
    start, stop = layout.kind_range(kind)
    output = model(**batch, logits_to_keep=1)
    return output.logits[:, -1, start:stop]


@torch.no_grad()
def score_sequences(
    model: torch.nn.Module,
    sequences: list[list[int]],
    layout: TokenLayout,
    *,
    kind: str = "product",
    batch_size: int = 64,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Float32 log-probabilities ``[len(sequences), n_kind]`` of each kind token after each sequence.

    Sequences are scored in length-sorted batches (less padding) and
    returned in input order.
    """
    from recommender.serialization import collate

    device = device or next(model.parameters()).device
    start, stop = layout.kind_range(kind)
    result = torch.empty((len(sequences), stop - start), dtype=torch.float32)
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    was_training = model.training
    model.eval()
    try:
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            batch = {k: v.to(device) for k, v in collate([sequences[i] for i in rows], layout.id("<pad>")).items()}
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = kind_logits(model, batch, layout, kind)
            result[rows] = torch.log_softmax(logits.float(), dim=-1).cpu()
    finally:
        model.train(was_training)
    return result
