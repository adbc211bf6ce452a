"""Ranking metrics on cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.metrics import hit_rate_at_k, ndcg_at_k, rank_of_targets


def test_rank_is_one_plus_items_scored_at_least_as_high():
    scores = np.array([[0.1, 0.9, 0.5, 0.3], [4.0, 3.0, 2.0, 1.0]], dtype=np.float32)
    assert rank_of_targets(scores, np.array([2, 3])).tolist() == [2, 4]
    assert rank_of_targets(scores, np.array([1, 0])).tolist() == [1, 1]


def test_ties_rank_the_target_below_every_tied_item():
    scores = np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    # Target 0 ties with items 1 and 2: pessimistic rank 3, not 1.
    assert rank_of_targets(scores, np.array([0, 2])).tolist() == [3, 4]


def test_nan_target_score_ranks_last():
    scores = np.array([[np.nan, 0.2, 0.1]])
    assert rank_of_targets(scores, np.array([0])).tolist() == [3]


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError):
        rank_of_targets(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_hit_rate_counts_ranks_within_k():
    ranks = np.array([1, 5, 6, 10, 11])
    assert hit_rate_at_k(ranks, 5) == pytest.approx(2 / 5)
    assert hit_rate_at_k(ranks, 10) == pytest.approx(4 / 5)
    assert hit_rate_at_k(ranks, 1) == pytest.approx(1 / 5)


def test_ndcg_by_hand():
    ranks = np.array([1, 3, 7])
    # k=5: 1/log2(2) + 1/log2(4) + 0 = 1 + 0.5, over 3 examples.
    assert ndcg_at_k(ranks, 5) == pytest.approx(1.5 / 3)
    # k=10 also counts rank 7: 1/log2(8) = 1/3.
    assert ndcg_at_k(ranks, 10) == pytest.approx((1 + 0.5 + 1 / 3) / 3)
    assert ndcg_at_k(np.array([2]), 10) == pytest.approx(1 / math.log2(3))


def test_tied_scores_flow_into_metrics_pessimistically():
    scores = np.zeros((1, 20))
    ranks = rank_of_targets(scores, np.array([0]))
    assert ranks.tolist() == [20]
    assert hit_rate_at_k(ranks, 10) == 0.0
    assert ndcg_at_k(ranks, 10) == 0.0


def test_empty_input_and_bad_arguments():
    assert hit_rate_at_k(np.array([], dtype=int), 10) == 0.0
    assert ndcg_at_k(np.array([], dtype=int), 10) == 0.0
    with pytest.raises(ValueError):
        ndcg_at_k(np.array([1]), 0)
    with pytest.raises(ValueError):
        hit_rate_at_k(np.array([0]), 5)
