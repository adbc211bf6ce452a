"""Leave-one-out variants scored without recomputing the prefix they share with their base input.

A request with evidence is a group of inputs: the full input (its base)
and one variant per left-out event. A variant equals its base up to the
removed event (``Serializer.encode`` keeps the base's window), so the keys
and values the model computed for the base's first ``p`` tokens are exactly
those the variant would compute again. ``score_groups`` runs every base
once (keeping its keys, values and last hidden states) and then only the
variants' suffixes, attending to the base's cached prefix through an
explicit attention mask. GPT-2's learned absolute positions make this
exact: a token's keys depend only on the tokens before it and its position.

The product distribution is then read exactly as the plain path reads it
(``recommender.copy_head.item_log_probs`` on each variant's whole sequence,
rebuilt from the base's prefix states and the suffix states), so the copy
head sees the same hidden states. ``tests/test_serving_fast_evidence.py``
checks the rows against ``GPTRecommender.score_token_ids``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import DynamicCache

from recommender.copy_head import item_log_probs
from recommender.gpt import GPTRecommender
from recommender.model import copy_head_of
from recommender.serialization import collate
from recommender.tokenizer import DUE_BUCKETS


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    limit = min(len(a), len(b))
    for index in range(limit):
        if a[index] != b[index]:
            return index
    return limit


@dataclass
class _Bases:
    """Every base's per-layer keys/values, last hidden states and ids, flattened token-major.

    Row ``start[b] + t`` holds token ``t`` of base ``b``; the last row is zeros
    (what padding slots gather).
    """

    keys: list[torch.Tensor]  # per layer [tokens + 1, heads, head_dim]
    values: list[torch.Tensor]
    hidden: torch.Tensor  # [tokens + 1, hidden]
    ids: torch.Tensor  # [tokens + 1]
    start: list[int]


class _Model:
    """The pieces of a loaded ``GPTRecommender`` the fast path calls, found once per call."""

    def __init__(self, recommender: GPTRecommender, with_services: bool = False) -> None:
        model, serializer = recommender.model, recommender.serializer
        if model is None or serializer is None:
            raise RuntimeError("the recommender has no model yet: call GPTRecommender.load()")
        causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.transformer = causal_lm.base_model
        self.output = causal_lm.get_output_embeddings()
        self.head = copy_head_of(model)
        self.layout = serializer.layout
        self.device = next(model.parameters()).device
        self.items = self.layout.kind_range("product")
        self.services = self.layout.kind_range("service") if with_services else (0, 0)
        self.pad = self.layout.id("<pad>")
        self.closing = torch.tensor([self.layout.id(f"<due_{name}>") for name, _ in DUE_BUCKETS], device=self.device)

    @property
    def width(self) -> int:
        """Columns of a row: the products, then the services when asked for."""
        return self.items[1] - self.items[0] + self.services[1] - self.services[0]

    def log_probs(self, hidden: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Product log-probabilities after the last position of each left-padded row (as the plain path),
        followed by the service log-probabilities when asked for."""
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        positions = torch.full_like(rows, hidden.shape[1] - 1)
        logits = item_log_probs(hidden, ids, mask, rows, positions, self.output, self.items, self.closing, self.head)
        products = torch.log_softmax(logits.float(), dim=-1)
        if self.services[1] == self.services[0]:
            return products.cpu()
        service_logits = self.output(hidden[:, -1])[:, self.services[0]:self.services[1]].float()
        return torch.cat([products, torch.log_softmax(service_logits, dim=-1)], dim=1).cpu()


def shares_prefixes(recommender: GPTRecommender) -> bool:
    """Whether the fast path applies: a GPT-2 (learned absolute positions, the cache layout used here)."""
    model = recommender.model
    if model is None:
        raise RuntimeError("the recommender has no model yet: call GPTRecommender.load()")
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(causal_lm.config, "model_type", "") == "gpt2"


@torch.inference_mode()
def score_groups(recommender: GPTRecommender, groups: Sequence[Sequence[list[int]]], *,
                 batch_size: int = 64, with_services: bool = False) -> np.ndarray:
    """Product log-probabilities of every input of every group, in order.

    The rows are those ``recommender.score_token_ids(all inputs, "product")``
    gives (within float tolerance); each group's first input is its base, and
    the others reuse the base's states up to their common prefix with it. Other
    architectures (a ``--base-model`` checkpoint with rotary positions, say)
    are scored whole, one input per row.

    Args:
        recommender: A loaded GPT-2 ``GPTRecommender``.
        groups: Per request, token-id inputs: the base first, then its variants (may be none).
        batch_size: Most rows per model call.
        with_services: Append each input's service log-probabilities (the model must have service tokens).

    Returns:
        Float32 ``[total inputs, n_products]``, or ``[total inputs, n_products + n_services]`` with services.
    """
    if any(not group for group in groups):
        raise ValueError("every group needs at least its base input")
    if not groups or not shares_prefixes(recommender):
        flat = [sequence for group in groups for sequence in group]
        products = recommender.score_token_ids(flat, "product")
        return np.concatenate([products, recommender.score_token_ids(flat, "service")], axis=1) if with_services \
            else products
    model = _Model(recommender, with_services)
    was_training = recommender.model.training  # type: ignore[union-attr]
    recommender.model.eval()  # type: ignore[union-attr]
    first_row = np.cumsum([0] + [len(group) for group in groups])
    result = torch.empty((int(first_row[-1]), model.width), dtype=torch.float32)
    autocast = torch.autocast(device_type=model.device.type, dtype=torch.bfloat16,
                              enabled=model.device.type == "cuda")
    try:
        with autocast:
            bases = _run_bases(model, [group[0] for group in groups], [int(r) for r in first_row[:-1]],
                               result, batch_size)
            variants = [(g, int(first_row[g]) + j, sequence, common_prefix(groups[g][0], sequence))
                        for g, group in enumerate(groups) for j, sequence in enumerate(group[1:], start=1)]
            # At least the last token runs through the model: its state makes the prediction.
            variants = [(g, row, s, min(p, len(s) - 1)) for g, row, s, p in variants]
            variants.sort(key=lambda v: len(v[2]) - v[3])
            for first in range(0, len(variants), batch_size):
                _run_variants(model, bases, variants[first : first + batch_size], result)
    finally:
        recommender.model.train(was_training)  # type: ignore[union-attr]
    return result.numpy()


def _run_bases(model: _Model, bases: list[list[int]], rows: list[int], result: torch.Tensor,
               batch_size: int) -> _Bases:
    """Score each base (length-sorted batches) and keep its states for the variants."""
    keys: list[list[torch.Tensor]] = []
    values: list[list[torch.Tensor]] = []
    hidden: list[torch.Tensor] = []
    ids: list[torch.Tensor] = []
    start = [0] * len(bases)
    flat = 0
    order = sorted(range(len(bases)), key=lambda b: len(bases[b]))
    for first in range(0, len(order), batch_size):
        chunk = order[first : first + batch_size]
        batch = {k: v.to(model.device) for k, v in collate([bases[b] for b in chunk], model.pad).items()}
        output = model.transformer(**batch, use_cache=True)
        width = batch["input_ids"].shape[1]
        result[[rows[b] for b in chunk]] = model.log_probs(output.last_hidden_state, batch["input_ids"],
                                                           batch["attention_mask"])
        for row, b in enumerate(chunk):
            start[b] = flat + row * width + width - len(bases[b])
        flat += len(chunk) * width
        # [batch, heads, width, head_dim] -> [batch * width, heads, head_dim]: one row per token slot.
        keys.append([layer.keys.transpose(1, 2).flatten(0, 1) for layer in output.cache.layers])
        values.append([layer.values.transpose(1, 2).flatten(0, 1) for layer in output.cache.layers])
        hidden.append(output.last_hidden_state.flatten(0, 1))
        ids.append(batch["input_ids"].flatten())

    def stacked(parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(parts + [torch.zeros_like(parts[0][:1])])

    layers = len(keys[0])
    return _Bases(keys=[stacked([chunk[layer] for chunk in keys]) for layer in range(layers)],
                  values=[stacked([chunk[layer] for chunk in values]) for layer in range(layers)],
                  hidden=stacked(hidden), ids=stacked(ids), start=start)


def _run_variants(model: _Model, bases: _Bases, chunk: list[tuple[int, int, list[int], int]],
                  result: torch.Tensor) -> None:
    """Run one batch of variants' suffixes on their bases' cached prefixes and score them."""
    device, zero = model.device, bases.hidden.shape[0] - 1
    prefix = torch.tensor([p for _, _, _, p in chunk], device=device)
    suffix = torch.tensor([len(s) - p for _, _, s, p in chunk], device=device)
    origin = torch.tensor([bases.start[g] for g, _, _, _ in chunk], device=device)
    n, width_p, width_s = len(chunk), int(prefix.max()), int(suffix.max())

    # Prefix slots are left-padded to width_p, suffix slots to width_s: [pad | prefix | pad | suffix].
    slot_p = torch.arange(width_p, device=device).unsqueeze(0)
    in_prefix = slot_p >= (width_p - prefix).unsqueeze(1)
    prefix_rows = torch.where(in_prefix, origin.unsqueeze(1) + slot_p - (width_p - prefix).unsqueeze(1), zero)
    slot_s = torch.arange(width_s, device=device).unsqueeze(0)
    in_suffix = slot_s >= (width_s - suffix).unsqueeze(1)
    suffix_ids = torch.full((n, width_s), model.pad, dtype=torch.long)
    for row, (_, _, sequence, p) in enumerate(chunk):
        suffix_ids[row, width_s - (len(sequence) - p):] = torch.tensor(sequence[p:], dtype=torch.long)
    suffix_ids = suffix_ids.to(device)
    positions = torch.where(in_suffix, prefix.unsqueeze(1) + slot_s - (width_s - suffix).unsqueeze(1), 0)

    cache = DynamicCache(config=model.transformer.config)
    for layer, (layer_keys, layer_values) in enumerate(zip(bases.keys, bases.values)):
        cache.update(layer_keys[prefix_rows].transpose(1, 2), layer_values[prefix_rows].transpose(1, 2), layer)
    # Query slot q sees its own prefix and the suffix slots up to itself; padding queries see only themselves.
    causal = slot_s.unsqueeze(2) >= slot_s.unsqueeze(1)  # [1, query, key]
    sees = torch.cat([in_prefix.unsqueeze(1).expand(n, width_s, width_p),
                      causal & in_suffix.unsqueeze(1) & in_suffix.unsqueeze(2)], dim=2)
    sees[:, :, width_p:] |= torch.eye(width_s, dtype=torch.bool, device=device)
    dtype = bases.keys[0].dtype
    mask = torch.zeros(sees.shape, dtype=dtype, device=device).masked_fill(~sees, torch.finfo(dtype).min)
    output = model.transformer(input_ids=suffix_ids, attention_mask=mask.unsqueeze(1), position_ids=positions,
                               cache=cache, use_cache=False)

    # Each variant's whole sequence, left-padded as collate would: base prefix states, then suffix states.
    width = int((prefix + suffix).max())
    slot = torch.arange(width, device=device).unsqueeze(0)
    begin = (width - prefix - suffix).unsqueeze(1)
    from_prefix = (slot >= begin) & (slot < (width - suffix).unsqueeze(1))
    from_suffix = slot >= (width - suffix).unsqueeze(1)
    suffix_base = bases.hidden.shape[0]
    source = torch.where(from_prefix, origin.unsqueeze(1) + slot - begin, zero)
    suffix_rows = torch.arange(n, device=device).unsqueeze(1) * width_s + slot - width + width_s
    source = torch.where(from_suffix, suffix_base + suffix_rows, source)
    all_hidden = torch.cat([bases.hidden, output.last_hidden_state.flatten(0, 1).to(bases.hidden.dtype)])
    all_ids = torch.cat([bases.ids, suffix_ids.flatten()])
    attention = (from_prefix | from_suffix).long()
    ids = torch.where(attention.bool(), all_ids[source], model.pad)
    result[[row for _, row, _, _ in chunk]] = model.log_probs(all_hidden[source], ids, attention)
