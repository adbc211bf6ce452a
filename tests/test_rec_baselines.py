"""Baselines: popularity, co-occurrence and SASRec on tiny data with a learnable pattern."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.baselines.cooccurrence import CoocParams, CooccurrenceRecommender
from recommender.baselines.popularity import PopularityRecommender
from recommender.baselines.sasrec import SASRecConfig, SASRecRecommender, training_windows
from recommender.dataset import Example, Split, leave_one_out, load_sequence_file
from recommender.metrics import ndcg_at_k, rank_of_targets
from recommender.protocol import Recommender

N_ITEMS = 30


@pytest.fixture(scope="module")
def successor_data(tmp_path_factory):
    """Each user walks i, i+1, i+2, ... (mod N_ITEMS) from a random start: the next item is learnable."""
    rng = np.random.default_rng(3)
    lines = []
    for user in range(240):
        start, length = rng.integers(0, N_ITEMS), rng.integers(4, 10)
        lines.append(f"u{user} " + " ".join(str((start + k) % N_ITEMS) for k in range(length)))
    path = tmp_path_factory.mktemp("seq") / "successor.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    dataset = load_sequence_file(path)
    return dataset, leave_one_out(dataset)


def _test_ndcg10(model: Recommender, split: Split) -> float:
    ranks = rank_of_targets(model.score(split.test), np.array([e.target for e in split.test]))
    return ndcg_at_k(ranks, 10)


def _tiny_sasrec(**overrides) -> SASRecRecommender:
    config = dict(max_len=8, hidden=32, heads=2, dropout=0.1, lr=5e-3, batch_size=64, max_epochs=12, patience=4,
                  threads=1)
    return SASRecRecommender(SASRecConfig(**(config | overrides)), device="cpu")


def test_popularity_scores_train_counts_only(successor_data):
    dataset, split = successor_data
    model = PopularityRecommender()
    model.fit(dataset, split, progress=False)
    scores = model.score(split.test[:3])
    assert scores.shape == (3, dataset.n_items) and scores.dtype == np.float32
    counts = np.bincount([p.item for h in split.train for p in h.purchases], minlength=dataset.n_items)
    np.testing.assert_array_equal(scores[0], counts)
    assert isinstance(model, Recommender)


def test_cooccurrence_learns_successors_and_falls_back_to_popularity(successor_data):
    dataset, split = successor_data
    popularity = PopularityRecommender()
    popularity.fit(dataset, split, progress=False)
    model = CooccurrenceRecommender(CoocParams(backward=0.0, decay=0.3), tune=False)
    model.fit(dataset, split, progress=False)
    assert _test_ndcg10(model, split) > 0.9
    assert _test_ndcg10(popularity, split) < 0.4
    first = split.test[0]
    empty = Example(history=first.history.before(first.history.purchases[0].time), target=0, time=first.time)
    assert not empty.history.purchases
    np.testing.assert_array_equal(np.argsort(-model.score([empty])[0], kind="stable"),
                                  np.argsort(-popularity.score([empty])[0], kind="stable"))


def test_training_windows_cover_every_transition_once():
    from recommender.dataset import History, Purchase, SEQUENCE_EPOCH

    history = History("u", "en", "", tuple(Purchase(SEQUENCE_EPOCH, i) for i in range(7)), ())
    inputs, targets = training_windows([history], max_len=3)
    pairs = [(a - 1, b - 1) for row_in, row_out in zip(inputs, targets) for a, b in zip(row_in, row_out) if b]
    assert sorted(pairs) == [(i, i + 1) for i in range(6)]
    assert inputs.shape[1] == 3 and (inputs[:, -1] > 0).all()


def test_sasrec_beats_popularity_and_keeps_its_best_epoch(successor_data):
    dataset, split = successor_data
    popularity = PopularityRecommender()
    popularity.fit(dataset, split, progress=False)
    model = _tiny_sasrec()
    report = model.fit(dataset, split, progress=False)

    scores = model.score(split.test)
    assert scores.shape == (len(split.test), dataset.n_items) and scores.dtype == np.float32
    assert _test_ndcg10(model, split) > _test_ndcg10(popularity, split) + 0.3
    # The weights kept are the best epoch's: re-scoring validation reproduces the reported figure.
    valid_ranks = rank_of_targets(model.score(split.valid), np.array([e.target for e in split.valid]))
    assert ndcg_at_k(valid_ranks, 10) == pytest.approx(report.best_valid_ndcg10, abs=1e-6)
    assert 1 <= report.epochs <= 12


def test_sasrec_is_reproducible_with_a_seed(successor_data):
    dataset, split = successor_data
    first, second = _tiny_sasrec(max_epochs=2), _tiny_sasrec(max_epochs=2)
    first.fit(dataset, split, progress=False)
    second.fit(dataset, split, progress=False)
    np.testing.assert_allclose(first.score(split.test[:5]), second.score(split.test[:5]), rtol=1e-5)
