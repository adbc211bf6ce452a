"""SASRec (Kang & McAuley, ICDM 2018), trained with cross-entropy over ALL items.

The network follows the paper and its reference code: item embeddings scaled
by sqrt(hidden) plus learned positional embeddings, dropout, then blocks of
causal self-attention and a point-wise feed-forward net, each sub-layer as
``x + Dropout(Sublayer(LayerNorm(x)))`` (the paper's Eq. 4), padding zeroed
after every block, a final LayerNorm, and scores as dot products with the
SAME item embedding table. Sequences are left-padded to ``max_len`` so the
most recent item always sits at the last position.

Training differs from the paper's sampled binary loss on purpose: every
non-padding position predicts its next item with a softmax over all items
(as RecBole 1.2.1 ``loss_type='CE'``), the setting of the reference figures
in the field notes. Early stopping keeps the epoch with the best validation
NDCG@10.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from recommender.dataset import Dataset, Example, History, Split
from recommender.metrics import ndcg_at_k, rank_of_targets
from recommender.protocol import FitReport


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters; defaults are RecBole 1.2.1's SASRec defaults on Beauty-sized data."""

    max_len: int = 50
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    dropout: float = 0.5
    lr: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 200
    patience: int = 10
    eval_batch_size: int = 1024
    seed: int = 7
    threads: int | None = None  # torch CPU threads; None keeps torch's default


class _Block(nn.Module):
    """Pre-LN causal self-attention + point-wise feed-forward, each with a residual."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.attn_norm = nn.LayerNorm(hidden, eps=1e-8)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=1e-8)
        self.ffn = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, hidden))
        self.dropout = nn.Dropout(dropout)
        self.attn_dropout = dropout

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(batch, length, 3, self.heads, hidden // self.heads).unbind(2)
        attended = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=allowed,
            dropout_p=self.attn_dropout if self.training else 0.0,
        )
        x = x + self.dropout(self.out(attended.transpose(1, 2).reshape(batch, length, hidden)))
        return x + self.dropout(self.ffn(self.ffn_norm(x)))


class SASRecNet(nn.Module):
    """The network; item 0 is padding, catalog item ``i`` is embedding row ``i + 1``."""

    def __init__(self, n_items: int, config: SASRecConfig) -> None:
        super().__init__()
        self.hidden = config.hidden
        self.items = nn.Embedding(n_items + 1, config.hidden, padding_idx=0)
        self.positions = nn.Embedding(config.max_len, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(_Block(config.hidden, config.heads, config.dropout) for _ in range(config.layers))
        self.final_norm = nn.LayerNorm(config.hidden, eps=1e-8)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """Hidden states ``[batch, max_len, hidden]`` for left-padded ``[batch, max_len]`` item ids."""
        length = sequences.shape[1]
        real = sequences > 0
        positions = torch.arange(length, device=sequences.device)
        x = self.items(sequences) * self.hidden**0.5 + self.positions(positions)[None]
        x = self.dropout(x) * real[..., None]
        causal = torch.ones(length, length, dtype=torch.bool, device=sequences.device).tril()
        # Padding keys are hidden; each position always sees itself so no row is empty.
        allowed = (causal[None] & real[:, None, :]) | torch.eye(length, dtype=torch.bool, device=sequences.device)
        allowed = allowed[:, None]
        for block in self.blocks:
            x = block(x, allowed) * real[..., None]
        return self.final_norm(x)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores over catalog items (padding excluded) for hidden states ``[..., hidden]``."""
        return hidden @ self.items.weight[1:].T


def training_windows(histories: Sequence[History], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Left-padded (input, next-item) windows covering every transition of every history.

    A sequence longer than ``max_len + 1`` is cut into windows from its end, each
    overlapping the previous by one item, so every prefix position predicts its
    next item exactly once. Ids are shifted by one (0 = padding).
    """
    inputs, targets = [], []
    for history in histories:
        ids = [p.item + 1 for p in history.purchases]
        end = len(ids)
        while end >= 2:
            start = max(0, end - max_len - 1)
            window = ids[start:end]
            pad = max_len + 1 - len(window)
            inputs.append([0] * pad + window[:-1])
            targets.append([0] * pad + window[1:])
            end = start + 1
    if not inputs:
        return np.zeros((0, max_len), dtype=np.int64), np.zeros((0, max_len), dtype=np.int64)
    return np.asarray(inputs, dtype=np.int64), np.asarray(targets, dtype=np.int64)


def example_inputs(examples: Sequence[Example], max_len: int) -> np.ndarray:
    """Left-padded ``[n, max_len]`` inputs from each example's last ``max_len`` purchases."""
    out = np.zeros((len(examples), max_len), dtype=np.int64)
    for row, example in enumerate(examples):
        ids = [p.item + 1 for p in example.history.purchases[-max_len:]]
        if ids:
            out[row, max_len - len(ids):] = ids
    return out


class SASRecRecommender:
    """SASRec baseline implementing ``Recommender``; CUDA with bf16 autocast when available."""

    name = "sasrec"

    def __init__(self, config: SASRecConfig | None = None, *, device: str | None = None) -> None:
        self.config = config or SASRecConfig()
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.net: SASRecNet | None = None

    def fit(self, dataset: Dataset, split: Split, *, progress: bool = True) -> FitReport:
        """Train on ``split.train`` windows; early-stop on validation NDCG@10, keep the best epoch."""
        with self._threads():
            return self._fit(dataset, split, progress)

    def score(self, examples: Sequence[Example]) -> np.ndarray:
        """Dot products of the last position's state with every item embedding."""
        with self._threads():
            return self._score(examples)

    def describe(self) -> dict[str, object]:
        """The configuration and device, for reports."""
        return asdict(self.config) | {"device": str(self.device)}

    @contextmanager
    def _threads(self) -> Iterator[None]:
        # A shared 2-core machine runs small models faster on one thread than on two contended ones.
        previous = torch.get_num_threads()
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def _fit(self, dataset: Dataset, split: Split, progress: bool) -> FitReport:
        config, started = self.config, time.perf_counter()
        torch.manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self.net = SASRecNet(dataset.n_items, config).to(self.device)
        optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        inputs, targets = training_windows(split.train, config.max_len)
        if not len(inputs):
            raise ValueError("no train history has two purchases: nothing to learn from")
        best_ndcg, best_state, best_epoch, epoch = -1.0, None, 0, 0
        for epoch in range(1, config.max_epochs + 1):
            loss = self._train_epoch(optimizer, inputs, targets, rng, progress, epoch)
            ndcg = self._valid_ndcg10(split.valid) if split.valid else -loss
            if progress:
                print(f"  sasrec epoch {epoch}: train loss {loss:.4f}, valid NDCG@10 {ndcg:.4f}", flush=True)
            if ndcg > best_ndcg:
                best_ndcg, best_epoch = ndcg, epoch
                best_state = copy.deepcopy(self.net.state_dict())
            elif epoch - best_epoch >= config.patience:
                break
        assert best_state is not None
        self.net.load_state_dict(best_state)
        peak = torch.cuda.max_memory_allocated(self.device) if self.device.type == "cuda" else 0
        return FitReport(train_seconds=time.perf_counter() - started, peak_memory_bytes=int(peak), epochs=epoch,
                         best_valid_ndcg10=best_ndcg if split.valid else None)

    def _score(self, examples: Sequence[Example]) -> np.ndarray:
        if self.net is None:
            raise RuntimeError("fit the model before scoring")
        self.net.eval()
        inputs = example_inputs(examples, self.config.max_len)
        out = np.empty((len(examples), self.net.items.num_embeddings - 1), dtype=np.float32)
        with torch.no_grad(), self._autocast():
            for start in range(0, len(examples), self.config.eval_batch_size):
                batch = torch.from_numpy(inputs[start:start + self.config.eval_batch_size]).to(self.device)
                logits = self.net.logits(self.net(batch)[:, -1])
                out[start:start + len(batch)] = logits.float().cpu().numpy()
        return out

    def _train_epoch(self, optimizer: torch.optim.Optimizer, inputs: np.ndarray, targets: np.ndarray,
                     rng: np.random.Generator, progress: bool, epoch: int) -> float:
        assert self.net is not None
        self.net.train()
        order = rng.permutation(len(inputs))
        total, count = 0.0, 0
        batches = range(0, len(order), self.config.batch_size)
        for start in tqdm(batches, desc=f"sasrec epoch {epoch}", disable=not progress, leave=False):
            rows = order[start:start + self.config.batch_size]
            batch = torch.from_numpy(inputs[rows]).to(self.device)
            target = torch.from_numpy(targets[rows]).to(self.device)
            real = target > 0
            with self._autocast():
                hidden = self.net(batch)[real]
                loss = F.cross_entropy(self.net.logits(hidden).float(), target[real] - 1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * int(real.sum())
            count += int(real.sum())
        return total / max(count, 1)

    def _valid_ndcg10(self, valid: Sequence[Example]) -> float:
        size = self.config.eval_batch_size
        ranks = np.concatenate([
            rank_of_targets(self._score(valid[i:i + size]), np.array([e.target for e in valid[i:i + size]]))
            for i in range(0, len(valid), size)
        ])
        return ndcg_at_k(ranks, 10)

    def _autocast(self) -> torch.autocast:
        enabled = self.device.type == "cuda"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=enabled)
