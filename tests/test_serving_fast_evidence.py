"""Shared-prefix scoring gives the plain path's rows, and therefore the same leave-one-out evidence."""

from __future__ import annotations

import copy
from datetime import datetime

import numpy as np
import pytest
from recommender.dataset import load_store
from recommender.evidence import explain
from recommender.gpt import Context, GPTRecommender
from recommender.model import copy_head_of
from recommender.serving.fast_evidence import common_prefix, score_groups

NOW = datetime(2031, 1, 1)  # after every demo event, so whole histories count
CONVERSATIONS = ("a gift for my dad who likes coffee", "", "我想买一台洗衣机")


#: The tiny preset as is, and with the items preset's scaled input embeddings and explore-new-only copy head.
VARIANTS = {"tiny": [], "scaled-explore-new": ["--set", "scale_item_embeddings=true", "--set",
                                               "copy_head_explore_new_only=true", "--set", "copy_gate_prior=true"]}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def model_and_histories(tmp_path_factory, request):
    """A tiny model (with its copy head) trained on a small demo store, and that store's histories."""
    from recommender.train import main as train
    from store.demo.build import build_demo_store

    folder = tmp_path_factory.mktemp("fast-evidence")
    url = f"sqlite:///{folder / 'shop.db'}"
    build_demo_store(url, scale=0.02, progress=False)
    train(["--preset", "tiny", "--database-url", url, "--out", str(folder / "gpt"), "--threads", "1",
           *VARIANTS[request.param]])
    histories = [h for h in load_store(url).histories if h.purchases][:24]
    return GPTRecommender.load(folder / "gpt"), histories


class _Recorder:
    """Collects the inputs ``explain`` builds (the base, then one variant per left-out event)."""

    def __init__(self, recommender: GPTRecommender) -> None:
        self.serializer = recommender.serializer
        self.sequences: list[list[int]] = []

    def score_token_ids(self, sequences: list[list[int]], kind: str = "product") -> np.ndarray:
        self.sequences = sequences
        return np.zeros((len(sequences), 1))


class _SharedPrefixScorer:
    """``explain``'s scorer, answered by the fast path (one group: the base and its variants)."""

    def __init__(self, recommender: GPTRecommender, batch_size: int = 64) -> None:
        self.recommender, self.serializer, self.batch_size = recommender, recommender.serializer, batch_size

    def score_token_ids(self, sequences: list[list[int]], kind: str = "product") -> np.ndarray:
        return score_groups(self.recommender, [sequences], batch_size=self.batch_size)


def contexts(histories) -> list[Context]:
    return [Context(history=h, now=NOW, conversation=CONVERSATIONS[i % 3], language="en")
            for i, h in enumerate(histories)]


def groups_of(recommender: GPTRecommender, histories, events: int = 4) -> list[list[list[int]]]:
    groups = []
    for context in contexts(histories):
        recorder = _Recorder(recommender)
        explain(recorder, context, [], max_events=events)
        groups.append(recorder.sequences)
    return groups


def test_common_prefix():
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([7], [8]) == 0


@pytest.mark.parametrize("batch_size", [64, 5])
def test_rows_equal_the_plain_scoring_of_every_input(model_and_histories, batch_size):
    recommender, histories = model_and_histories
    groups = groups_of(recommender, histories)
    groups.append([groups[0][0]])  # a request without evidence: a base alone
    groups.append([groups[1][0], groups[1][0]])  # a variant identical to its base
    # The budget pushes old events out, so some variants share only the header with their base and others
    # nearly everything: both kinds must be in the test.
    shares = [common_prefix(g[0], v) / len(v) for g in groups for v in g[1:]]
    assert min(shares) < 0.2 and max(shares) > 0.8
    plain = recommender.score_token_ids([s for g in groups for s in g], "product")
    fast = score_groups(recommender, groups, batch_size=batch_size)
    assert fast.shape == plain.shape
    np.testing.assert_allclose(fast, plain, atol=2e-4, rtol=0)


def test_rows_equal_without_a_copy_head(model_and_histories):
    recommender, histories = model_and_histories
    assert copy_head_of(recommender.model) is not None
    plain_lm = copy.copy(recommender)
    plain_lm.model = copy.deepcopy(recommender.model)
    del plain_lm.model._modules["copy_head"]
    groups = groups_of(plain_lm, histories[:8])
    np.testing.assert_allclose(score_groups(plain_lm, groups),
                               plain_lm.score_token_ids([s for g in groups for s in g], "product"), atol=2e-4, rtol=0)


def test_fast_path_gives_the_same_evidence_as_plain_leave_one_out(model_and_histories):
    recommender, histories = model_and_histories
    compared = 0
    for context in contexts(histories):
        top = np.argsort(-recommender.score_contexts([context])[0])[:5].tolist()
        # Every event's drop (top_n covers them all), compared by event: near-ties may swap order.
        plain = explain(recommender, context, top, max_events=4, top_n=99)
        fast = explain(_SharedPrefixScorer(recommender, batch_size=3), context, top, max_events=4, top_n=99)
        for item in top:
            plain_drops = {(e.kind, e.position): e.drop for e in plain[item]}
            fast_drops = {(e.kind, e.position): e.drop for e in fast[item]}
            for key in plain_drops.keys() | fast_drops.keys():
                assert fast_drops.get(key, 0.0) == pytest.approx(plain_drops.get(key, 0.0), abs=2e-4), key
            compared += len(plain_drops)
    assert compared > 0  # some evidence was found and compared, not only empty lists


def test_a_group_needs_its_base(model_and_histories):
    with pytest.raises(ValueError, match="at least its base"):
        score_groups(model_and_histories[0], [[]])


def test_no_groups_give_no_rows(model_and_histories):
    recommender = model_and_histories[0]
    assert score_groups(recommender, []).shape == (0, recommender.serializer.layout.n_items)


def test_other_architectures_are_scored_whole(model_and_histories, monkeypatch):
    recommender, histories = model_and_histories
    groups = groups_of(recommender, histories[:2])
    monkeypatch.setattr(type(recommender), "score_token_ids",
                        lambda self, sequences, kind="product": np.full((len(sequences), 3), 1.0))
    monkeypatch.setattr(recommender.model.get_base_model().config, "model_type", "llama")
    assert (score_groups(recommender, groups) == 1.0).all()


def test_fused_activations_keep_the_scores(model_and_histories):
    from recommender.serving.kernels import fuse_activations

    recommender, histories = model_and_histories
    fused = copy.copy(recommender)
    fused.model = copy.deepcopy(recommender.model)
    assert fuse_activations(fused.model) == recommender.config.n_layer
    assert fuse_activations(fused.model) == 0  # nothing left to replace
    groups = groups_of(recommender, histories[:8])
    np.testing.assert_allclose(score_groups(fused, groups), score_groups(recommender, groups), atol=2e-5, rtol=0)


def test_merged_adapter_keeps_the_scores(model_and_histories):
    from peft import PeftModel

    from recommender.serving.kernels import merge_adapter

    recommender, histories = model_and_histories
    merged = copy.copy(recommender)
    merged.model = merge_adapter(copy.deepcopy(recommender.model))
    assert not isinstance(merged.model, PeftModel) and copy_head_of(merged.model) is not None
    assert merge_adapter(merged.model) is merged.model  # nothing left to merge
    groups = groups_of(recommender, histories[:8])
    # The catalog-token deltas and the LoRA products are in the weights now: same rows, both paths.
    np.testing.assert_allclose(score_groups(merged, groups), score_groups(recommender, groups), atol=2e-5, rtol=0)
    flat = [sequence for group in groups for sequence in group]
    np.testing.assert_allclose(merged.score_token_ids(flat), recommender.score_token_ids(flat), atol=2e-5, rtol=0)
