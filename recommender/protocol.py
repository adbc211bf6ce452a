"""What every recommender the evaluation harness runs must provide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from recommender.dataset import Dataset, Example, Split


@dataclass
class FitReport:
    """What fitting a model cost and how far it went.

    Attributes:
        train_seconds: Wall-clock seconds spent in ``fit``.
        peak_memory_bytes: Peak memory the model measured itself (0 when it does
            not measure; the harness measures process memory on its own).
        epochs: Epochs run (0 for models without epochs).
        best_valid_ndcg10: Validation NDCG@10 of the kept weights, if the model
            used validation for early stopping, else ``None``.
    """

    train_seconds: float
    peak_memory_bytes: int
    epochs: int
    best_valid_ndcg10: float | None


@runtime_checkable
class Recommender(Protocol):
    """A model that ranks every catalog item for an example's history."""

    name: str

    def fit(self, dataset: Dataset, split: Split, *, progress: bool = True) -> FitReport:
        """Learn from ``split.train`` (and ``split.valid`` for early stopping only)."""
        ...

    def score(self, examples: Sequence[Example]) -> np.ndarray:
        """Scores, float32 ``[len(examples), dataset.n_items]``; higher ranks first; all items."""
        ...
