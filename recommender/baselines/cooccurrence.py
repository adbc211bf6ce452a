"""Item-to-item co-occurrence ("bought X, then bought Y"), scored from recent purchases.

``C[a, b]`` sums ``1 / d`` over every train sequence where ``b`` follows ``a``
``d <= window`` positions later (``backward / d`` where it precedes), divided
by how often ``a`` was bought. A customer's score is
``sum_age decay**age * C[item_age, :]`` over the last ``recent`` purchases
(age 0 = most recent). Items no recent item co-occurs with are ranked after
all co-occurring ones, by popularity, so an empty history gets popularity.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommender.baselines.popularity import train_counts
from recommender.dataset import Dataset, Example, History, Split
from recommender.metrics import ndcg_at_k, rank_of_targets
from recommender.protocol import FitReport


@dataclass(frozen=True)
class CoocParams:
    """Knobs of the co-occurrence model; see the module docstring."""

    window: int = 5
    backward: float = 0.5
    recent: int = 5
    decay: float = 0.5


#: Candidates tried on VALIDATION when ``tune`` is on (never on test).
TUNING_GRID = tuple(
    CoocParams(window=5, backward=backward, recent=recent, decay=decay)
    for backward, (recent, decay) in itertools.product((0.0, 0.5, 1.0), ((5, 0.3), (5, 0.7), (20, 0.9)))
)


@dataclass(frozen=True)
class _Sparse:
    """Row-compressed ``[n_items, n_items]`` matrix (no scipy in this environment)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray


def cooccurrence_matrix(histories: Sequence[History], n_items: int, params: CoocParams) -> _Sparse:
    """The normalized co-occurrence matrix ``C`` of the module docstring, row-compressed."""
    items = np.fromiter((p.item for h in histories for p in h.purchases), dtype=np.int64)
    owner = np.fromiter((u for u, h in enumerate(histories) for _ in h.purchases), dtype=np.int64)
    sources, targets, weights = [], [], []
    for distance in range(1, params.window + 1):
        same = owner[:-distance] == owner[distance:]
        first, later = items[:-distance][same], items[distance:][same]
        sources += [first, later]
        targets += [later, first]
        weights += [np.full(first.size, 1.0 / distance), np.full(first.size, params.backward / distance)]
    source, target, weight = (np.concatenate(x) if x else np.zeros(0) for x in (sources, targets, weights))
    keep = weight > 0
    keys = source[keep].astype(np.int64) * n_items + target[keep].astype(np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=weight[keep], minlength=unique.size)
    rows, cols = unique // n_items, unique % n_items
    counts = train_counts(histories, n_items)
    data = summed / np.maximum(counts[rows], 1.0)
    indptr = np.zeros(n_items + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_items), out=indptr[1:])
    return _Sparse(indptr=indptr, indices=cols.astype(np.int64), data=data)


class CooccurrenceRecommender:
    """Co-occurrence from train histories with recency weights, popularity fallback."""

    name = "cooc"

    def __init__(self, params: CoocParams | None = None, *, tune: bool = True) -> None:
        self.params = params or CoocParams()
        self.tune = tune
        self._matrix: _Sparse | None = None
        self._popularity: np.ndarray | None = None

    def fit(self, dataset: Dataset, split: Split, *, progress: bool = True) -> FitReport:
        """Build ``C``; with ``tune``, keep the grid point with the best validation NDCG@10."""
        started = time.perf_counter()
        counts = train_counts(split.train, dataset.n_items)
        self._popularity = counts / max(counts.max(), 1.0)
        candidates = TUNING_GRID if self.tune and split.valid else (self.params,)
        best: tuple[float, CoocParams, _Sparse] | None = None
        for params in candidates:
            matrix = cooccurrence_matrix(split.train, dataset.n_items, params)
            self.params, self._matrix = params, matrix
            ndcg = self._valid_ndcg10(split.valid) if split.valid else 0.0
            if progress and len(candidates) > 1:
                print(f"  cooc {params}: valid NDCG@10 {ndcg:.4f}", flush=True)
            if best is None or ndcg > best[0]:
                best = (ndcg, params, matrix)
        assert best is not None
        valid_ndcg, self.params, self._matrix = best
        return FitReport(train_seconds=time.perf_counter() - started, peak_memory_bytes=0, epochs=0,
                         best_valid_ndcg10=valid_ndcg if split.valid else None)

    def score(self, examples: Sequence[Example]) -> np.ndarray:
        """Recency-weighted co-occurrence rows; non-co-occurring items below, by popularity."""
        if self._matrix is None or self._popularity is None:
            raise RuntimeError("fit the model before scoring")
        matrix, n_items = self._matrix, self._popularity.size
        cooc = np.zeros((len(examples), n_items), dtype=np.float64)
        for row, example in enumerate(examples):
            recent = example.history.purchases[-self.params.recent:]
            for age, purchase in enumerate(reversed(recent)):
                start, end = matrix.indptr[purchase.item], matrix.indptr[purchase.item + 1]
                cooc[row, matrix.indices[start:end]] += self.params.decay**age * matrix.data[start:end]
        positive = cooc > 0
        smallest = np.where(positive, cooc, np.inf).min(axis=1, keepdims=True)
        smallest[~np.isfinite(smallest)] = 1.0
        # Scaled below the smallest co-occurrence of the row, so popularity only orders the rest.
        fallback = 0.5 * smallest * self._popularity[None, :]
        return np.where(positive, cooc, fallback).astype(np.float32)

    def _valid_ndcg10(self, valid: Sequence[Example]) -> float:
        ranks = np.concatenate([
            rank_of_targets(self.score(valid[i:i + 1024]), np.array([e.target for e in valid[i:i + 1024]]))
            for i in range(0, len(valid), 1024)
        ])
        return ndcg_at_k(ranks, 10)
