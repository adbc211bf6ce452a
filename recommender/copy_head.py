"""The repeat (copy) head: a trained pointer from the prediction point back to items already bought.

RepeatNet-style (Ren et al., AAAI 2019): the next-item distribution is a
mixture of the language model's own distribution over the catalog
("explore") and a pointer distribution over the products present in the
input ("repeat")::

    P(i) = (1 - g) * softmax(h_t . E)_i + g * sum_{j < t, x_j = i} softmax_j(q(h_t) . k(h'_j))

With ``explore_new_only`` the explore softmax runs over the products NOT in
the input, as in RepeatNet, so a product already bought gets its mass only
through the gate, which learns how often customers buy again: a tied output
embedding otherwise scores the products in the context high whether or not
they are ever bought twice (on MovieLens-100k, where nothing is, 41% of the
top 10 were already-rated films).

``g = sigmoid(w . h_t + b)`` is zero where no product precedes position
``t``. ``h'_j`` is the hidden state of the token that closes purchase ``j``:
its due token when the item is a consumable (so the pointer sees how far
through its repurchase cycle the item is), else the item token itself. The
head is part of the adapter: it trains in step 2 and is saved beside it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

WEIGHTS_FILE = "copy_head.safetensors"
CONFIG_FILE = "copy_head.json"


class CopyHead(nn.Module):
    """Pointer scores and the repeat gate, computed from the base model's last hidden states."""

    def __init__(self, hidden: int, dim: int, explore_new_only: bool = False) -> None:
        super().__init__()
        self.hidden, self.dim, self.explore_new_only = hidden, dim, explore_new_only
        self.query = nn.Linear(hidden, dim)
        self.key = nn.Linear(hidden, dim)
        self.gate = nn.Linear(hidden, 1)

    def start_gate_at(self, repeat_rate: float) -> None:
        """Set the gate's bias so that, before training, it gives repeats ``repeat_rate`` of the mass.

        A gate that starts at one half moves its bias by about the learning rate
        per step, so on data where nobody buys twice (MovieLens, Amazon Beauty)
        fine-tuning spends its first epochs unlearning repeats; starting at the
        train data's own rate (clamped to [0.001, 0.999]) makes the untrained head
        already as right about repeats as a constant can be.
        """
        rate = min(max(repeat_rate, 1e-3), 1 - 1e-3)
        with torch.no_grad():
            self.gate.weight.zero_()
            self.gate.bias.fill_(math.log(rate / (1 - rate)))

    def save(self, directory: str | Path) -> None:
        """Write the head's weights and sizes into ``directory`` (an adapter folder)."""
        directory = Path(directory)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}, directory / WEIGHTS_FILE)
        sizes = {"hidden": self.hidden, "dim": self.dim, "explore_new_only": self.explore_new_only}
        (directory / CONFIG_FILE).write_text(json.dumps(sizes) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> CopyHead | None:
        """The head saved in ``directory``, or ``None`` when the adapter has none."""
        directory = Path(directory)
        if not (directory / CONFIG_FILE).exists():
            return None
        sizes = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        # A head saved before explore_new_only existed was trained without it.
        head = cls(int(sizes["hidden"]), int(sizes["dim"]), bool(sizes.get("explore_new_only", False)))
        head.load_state_dict(load_file(directory / WEIGHTS_FILE))
        return head


def item_log_probs(
    hidden: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    rows: torch.Tensor,
    positions: torch.Tensor,
    output_embeddings: nn.Module,
    item_range: tuple[int, int],
    closing_ids: torch.Tensor,
    head: CopyHead | None,
) -> torch.Tensor:
    """Log-probabilities ``[n, n_items]`` of the next product at ``(rows[k], positions[k])``.

    Args:
        hidden: Last hidden states ``[batch, length, hidden]`` of the whole (left-padded) batch.
        input_ids: ``[batch, length]`` token ids.
        attention_mask: ``[batch, length]``, 1 on real tokens.
        rows: Batch row of each prediction.
        positions: Position whose hidden state predicts (the token just before the target).
        output_embeddings: The LM head (product logits are its ``item_range`` slice).
        item_range: ``(start, stop)`` ids of product tokens.
        closing_ids: Token ids that close a purchase after its item (the due tokens).
        head: The copy head; ``None`` gives the plain LM distribution over products.
    """
    start, stop = item_range
    query_states = hidden[rows, positions]
    logits = output_embeddings(query_states)[:, start:stop].float()
    if head is None:
        return torch.log_softmax(logits, dim=-1)
    length = input_ids.shape[1]
    is_item = (input_ids >= start) & (input_ids < stop) & (attention_mask == 1)
    # The key of purchase j is read at its closing token when there is one (it has seen item and due state),
    # but never past the prediction point: an item AT it (an input that ends with its last purchase) is keyed
    # on its own state.
    closes = torch.isin(torch.roll(input_ids, -1, dims=1), closing_ids)
    closes[:, -1] = False
    key_index = (torch.arange(length, device=input_ids.device).expand_as(input_ids) + closes.long())[rows]
    key_index = torch.minimum(key_index, positions.unsqueeze(1))
    key_states = torch.gather(hidden[rows], 1, key_index.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
    keys = head.key(key_states)  # [n, length, dim]
    scores = torch.einsum("nd,nld->nl", head.query(query_states), keys).float() / head.dim**0.5
    # Items up to AND at the prediction point are in the input: with end_markers off the input ends with the
    # last purchase, which predicts the next one and is itself already bought.
    before = torch.arange(length, device=input_ids.device).unsqueeze(0) <= positions.unsqueeze(1)
    allowed = is_item[rows] & before
    scores = scores.masked_fill(~allowed, float("-inf"))
    has_any = allowed.any(dim=1)
    weights = torch.softmax(scores.masked_fill(~has_any.unsqueeze(1), 0.0), dim=1) * allowed
    items = (input_ids[rows] - start).clamp(0, stop - start - 1)
    repeat = torch.zeros(len(rows), stop - start, device=hidden.device).scatter_add_(1, items, weights)
    if head.explore_new_only:
        # The explore distribution covers the products not in the input (all of them if the input holds every one).
        seen = torch.zeros_like(logits).scatter_add_(1, items, allowed.float()) > 0
        seen &= ~seen.all(dim=1, keepdim=True)
        logits = logits.masked_fill(seen, float("-inf"))
    log_explore = torch.log_softmax(logits, dim=-1)
    gate = head.gate(query_states).squeeze(-1).float()
    log_gate = torch.where(has_any, nn.functional.logsigmoid(gate), torch.full_like(gate, float("-inf")))
    log_keep = torch.where(has_any, nn.functional.logsigmoid(-gate), torch.zeros_like(gate))
    log_repeat = torch.log(repeat.clamp_min(1e-30)).masked_fill(repeat <= 0, float("-inf"))
    return torch.logaddexp(log_keep.unsqueeze(1) + log_explore, log_gate.unsqueeze(1) + log_repeat)


def repeat_rate(item_sequences: Iterable[Sequence[int]]) -> float:
    """Share of next items (every purchase after a customer's first) that the customer had already bought."""
    repeats = total = 0
    for items in item_sequences:
        seen: set[int] = set()
        for position, item in enumerate(items):
            if position:
                total += 1
                repeats += item in seen
            seen.add(item)
    return repeats / total if total else 0.0
