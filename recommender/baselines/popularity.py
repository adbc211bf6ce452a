"""Most-bought items first: the floor every model must clear."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from recommender.dataset import Dataset, Example, History, Split
from recommender.protocol import FitReport


def train_counts(histories: Sequence[History], n_items: int) -> np.ndarray:
    """How often each item was bought in ``histories`` (float64 ``[n_items]``)."""
    items = np.fromiter((p.item for h in histories for p in h.purchases), dtype=np.int64)
    return np.bincount(items, minlength=n_items).astype(np.float64)


class PopularityRecommender:
    """Scores every item by its purchase count in the train histories, same for everyone."""

    name = "pop"

    def __init__(self) -> None:
        self._counts: np.ndarray | None = None

    def fit(self, dataset: Dataset, split: Split, *, progress: bool = True) -> FitReport:
        """Count train purchases; validation is not used."""
        started = time.perf_counter()
        self._counts = train_counts(split.train, dataset.n_items)
        return FitReport(train_seconds=time.perf_counter() - started, peak_memory_bytes=0, epochs=0,
                         best_valid_ndcg10=None)

    def score(self, examples: Sequence[Example]) -> np.ndarray:
        """The train counts, one identical row per example."""
        if self._counts is None:
            raise RuntimeError("fit the model before scoring")
        return np.broadcast_to(self._counts.astype(np.float32), (len(examples), self._counts.size)).copy()
