"""Top-k ranking metrics over full rankings with one relevant item per example.

Every function is pure. Ranks are 1-based positions of the target in a
ranking over ALL catalog items; already-bought items are never masked
(consumables are bought again), as in the reference SASRec figures.
"""

from __future__ import annotations

import numpy as np


def rank_of_targets(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each target in its row, ties broken pessimistically.

    ``rank_u = 1 + #{j : scores[u, j] >= scores[u, target_u], j != target_u}``,
    so a target tied with other items ranks below all of them. A NaN score
    never ranks well: a NaN target ranks last.

    Args:
        scores: ``[n, n_items]`` scores, higher is better.
        targets: ``[n]`` integer item indices.

    Returns:
        ``[n]`` int64 ranks in ``1..n_items``.
    """
    scores = np.asarray(scores)
    targets = np.asarray(targets, dtype=np.int64)
    if scores.ndim != 2 or targets.shape != (scores.shape[0],):
        raise ValueError(f"scores {scores.shape} and targets {targets.shape} do not match")
    n, n_items = scores.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    target_scores = scores[np.arange(n), targets]
    at_least = (scores >= target_scores[:, None]).sum(axis=1)  # counts the target itself once
    ranks = at_least.astype(np.int64)
    ranks[np.isnan(target_scores)] = n_items
    return ranks


def hit_rate_at_k(ranks: np.ndarray, k: int) -> float:
    """HR@k = (1/n) * sum_u [rank_u <= k]; 0.0 for no examples."""
    ranks = _checked(ranks, k)
    return float((ranks <= k).mean()) if ranks.size else 0.0


def ndcg_at_k(ranks: np.ndarray, k: int) -> float:
    """NDCG@k = (1/n) * sum_u (1 / log2(rank_u + 1) if rank_u <= k else 0).

    With a single relevant item the ideal DCG is 1, so this is the mean DCG.
    0.0 for no examples.
    """
    ranks = _checked(ranks, k)
    if not ranks.size:
        return 0.0
    gains = np.where(ranks <= k, 1.0 / np.log2(ranks.astype(np.float64) + 1.0), 0.0)
    return float(gains.mean())


def _checked(ranks: np.ndarray, k: int) -> np.ndarray:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranks = np.asarray(ranks)
    if ranks.size and ranks.min() < 1:
        raise ValueError("ranks are 1-based; got a rank below 1")
    return ranks
