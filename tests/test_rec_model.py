"""The GPT recommender end to end on the toy store with the tiny preset."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
import torch

from recommender.config import preset
from recommender.dataset import leave_one_out
from recommender.gpt import Context, GPTRecommender
from recommender.model import build_base, lora_targets
from recommender.protocol import Recommender
from recommender.serialization import collate
from recommender.model import load_base
from recommender.train import next_item_loss, train, validate, validation_examples, weighted_lm_loss
from recommender.tokenizer import STRUCTURAL
from recommender.tokenizer import save_tokenizer, train_tokenizer
from tests.test_rec_model_toy import toy_dataset

FAST = dict(pretrain_epochs=2, finetune_epochs=2, patience=2, torch_threads=1)


@pytest.fixture(scope="module")
def toy():
    dataset = toy_dataset(n_customers=40)
    return dataset, leave_one_out(dataset)


@pytest.fixture(scope="module")
def fitted(toy, tmp_path_factory):
    dataset, split = toy
    out = tmp_path_factory.mktemp("gpt")
    model = GPTRecommender("tiny", work_dir=out, **FAST)
    report = model.fit(dataset, split, progress=False)
    return model, report, out


def test_fit_reports_and_writes_artifacts(fitted):
    model, report, out = fitted
    assert isinstance(model, Recommender) and model.name == "gpt"
    assert report.epochs >= 1 and report.best_valid_ndcg10 is not None and report.train_seconds > 0
    for path in ("config.json", "items.json", "tokenizer/rec_layout.json", "base/config.json",
                 "adapters/default/adapter_config.json", "train_log.json"):
        assert (out / path).exists(), path
    assert json.loads((out / "config.json").read_text())["preset"] == "tiny"
    log = json.loads((out / "train_log.json").read_text())
    losses = [e["loss"] for e in log["pretrain"]["epochs"]]
    assert losses[-1] < losses[0]  # the tiny preset's pretraining loss falls
    described = model.describe()  # what an evaluation report keeps of the run
    assert described["train_config"]["preset"] == "tiny" and described["pretrain"]["epochs"] == 2
    assert described["finetune"]["best_valid_ndcg10"] == report.best_valid_ndcg10


def test_scores_cover_every_item_and_reload_identically(fitted, toy):
    model, _, out = fitted
    dataset, split = toy
    scores = model.score(split.test)
    assert scores.shape == (len(split.test), dataset.n_items) and scores.dtype == np.float32
    assert np.isfinite(scores).all()
    again = GPTRecommender.load(out).score(split.test)
    assert torch.allclose(torch.from_numpy(scores), torch.from_numpy(again), atol=1e-5)
    assert (np.argsort(-scores, axis=1)[:, :10] == np.argsort(-again, axis=1)[:, :10]).all()


def test_anonymous_visitor_gets_a_full_distribution_from_text(fitted, toy):
    model, _, _ = fitted
    dataset, _ = toy
    scores = model.score_contexts([Context(history=None, now=datetime(2026, 1, 1), conversation="looking for tea")])
    assert scores.shape == (1, dataset.n_items)
    assert np.exp(scores).sum() == pytest.approx(1.0, abs=1e-4)


def test_finetuning_loss_falls_and_the_adapter_changes_the_model(toy, tmp_path):
    dataset, split = toy
    result = train(dataset, split, preset("tiny", **{**FAST, "finetune_epochs": 3, "patience": 3}), tmp_path / "run",
                   progress=False)
    losses = [e["loss"] for e in result.log["finetune"]["epochs"]]
    assert len(losses) == 3 and losses[-1] < losses[0]
    layout = result.serializer.layout
    batch = collate([result.serializer.encode(h, h.purchases[-1].time) + [layout.item_token(h.purchases[-1].item)]
                     for h in split.train[:16]], layout.id("<pad>"))
    with torch.no_grad():
        tuned = next_item_loss(result.model, batch, layout).item()
        with result.model.disable_adapter():
            untuned = next_item_loss(result.model, batch, layout).item()
    assert tuned != pytest.approx(untuned, abs=1e-4)


def test_same_seed_same_model_and_resume_finishes(toy, tmp_path):
    dataset, split = toy
    config = preset("tiny", **FAST, seed=3)
    first = train(dataset, split, config, tmp_path / "a", progress=False)
    second = train(dataset, split, config, tmp_path / "b", progress=False)
    assert first.best_valid_ndcg10 == second.best_valid_ndcg10
    with pytest.raises(FileExistsError):
        train(dataset, split, config, tmp_path / "a", progress=False)
    resumed = train(dataset, split, config, tmp_path / "a", resume=True, progress=False)
    assert resumed.best_valid_ndcg10 == first.best_valid_ndcg10
    # A refresh: a second named adapter on the same base; both reload.
    train(dataset, split, config, tmp_path / "a", resume=True, adapter_name="refresh2", progress=False)
    log = json.loads((tmp_path / "a" / "train_log.json").read_text())
    assert set(log["adapters"]) == {"default", "refresh2"}
    for name in ("default", "refresh2"):
        assert GPTRecommender.load(tmp_path / "a", name).score(split.test[:2]).shape == (2, dataset.n_items)


def test_a_local_pretrained_base_gets_item_tokens_and_lora(toy, tmp_path):
    dataset, split = toy
    config = preset("tiny", **FAST)
    tokenizer, layout = train_tokenizer(["looking for tea", "跑鞋 shoes"] * 10, n_items=0, vocab_size=300, min_frequency=1)
    base = build_base(config, layout)
    base.save_pretrained(tmp_path / "hf")
    tokenizer.save_pretrained(tmp_path / "hf")
    model = GPTRecommender("tiny", base_model=str(tmp_path / "hf"), work_dir=tmp_path / "run", **FAST)
    model.fit(dataset, split, progress=False)
    assert model.serializer.layout.n_items == dataset.n_items
    assert model.score(split.test[:3]).shape == (3, dataset.n_items)
    assert lora_targets(base) == (["c_attn", "c_proj"], True)
    with pytest.raises(ValueError, match="scale_item_embeddings"):
        GPTRecommender("tiny", base_model=str(tmp_path / "hf"), work_dir=tmp_path / "scaled",
                       scale_item_embeddings=True, **FAST).fit(dataset, split, progress=False)


def test_explore_new_only_with_scaled_embeddings_trains_and_reloads_with_its_head(toy, tmp_path):
    dataset, split = toy
    model = GPTRecommender("tiny", work_dir=tmp_path, copy_head_explore_new_only=True, scale_item_embeddings=True, **FAST)
    model.fit(dataset, split, progress=False)
    scores = model.score(split.test)
    assert np.isfinite(scores).all()
    assert np.allclose(np.exp(scores).sum(axis=1), 1.0, atol=1e-4)
    again = GPTRecommender.load(tmp_path)
    assert again.model.copy_head.explore_new_only is True
    assert again.model.get_base_model().config.input_embedding_multiplier == pytest.approx(32**0.5)
    assert torch.allclose(torch.from_numpy(scores), torch.from_numpy(again.score(split.test)), atol=1e-5)


def test_pretraining_validates_each_epoch_keeps_its_best_and_stops_on_patience(toy, tmp_path):
    dataset, split = toy
    config = preset("tiny", **{**FAST, "pretrain_epochs": 6, "pretrain_patience": 1, "finetune_epochs": 1})
    result = train(dataset, split, config, tmp_path / "run", progress=False)
    log = result.log["pretrain"]
    scores = [e["valid_ndcg10"] for e in log["epochs"]]
    assert log["best_valid_ndcg10"] == max(scores) and scores[log["best_epoch"] - 1] == max(scores)
    # It ran until one epoch failed to beat the best (or to the end), no further.
    stopped_early = len(scores) < 6
    assert not stopped_early or len(scores) == log["best_epoch"] + 1
    # The saved base is the best epoch's, not the last one's.
    base = load_base(tmp_path / "run" / "base", result.serializer.layout)
    assert validate(base, result.serializer, validation_examples(split, config), config, torch.device("cpu")) \
        == pytest.approx(log["best_valid_ndcg10"], abs=1e-9)


def test_fine_tuning_that_never_beats_the_untrained_adapter_keeps_it(toy, tmp_path):
    dataset, split = toy
    result = train(dataset, split, preset("tiny", **{**FAST, "finetune_lr": 0.0}), tmp_path / "run", progress=False)
    log = result.log["finetune"]
    assert log["best_epoch"] == 0 and log["best_valid_ndcg10"] == log["initial_valid_ndcg10"]
    assert all(e["valid_ndcg10"] <= log["initial_valid_ndcg10"] for e in log["epochs"])


def test_marker_targets_can_be_left_out_of_the_pretraining_loss(toy):
    dataset, split = toy
    config = preset("tiny")
    tokenizer, layout = train_tokenizer(["looking for tea"] * 10, n_items=dataset.n_items, vocab_size=300, min_frequency=1)
    model = build_base(config, layout).eval()
    gap, rec = layout.id("<gap_1w>"), layout.id("<rec>")
    item = layout.item_token(0)
    text = tokenizer.encode("tea", add_special_tokens=False)
    batch = collate([[layout.id("<bos>"), gap, item, *text, rec, layout.item_token(1)], [gap, item]], layout.id("<pad>"))
    with torch.no_grad():
        logits = model(**batch).logits[:, :-1]
        targets = batch["input_ids"][:, 1:]
        keep = (batch["attention_mask"][:, 1:] == 1) & ~torch.isin(targets, torch.tensor([layout.id(t) for t in STRUCTURAL]))
        losses = torch.nn.functional.cross_entropy(logits[keep], targets[keep], reduction="none")
        weights = torch.where(targets[keep] >= layout.kind_range("product")[0], 4.0, 1.0)
        expected = (losses * weights).sum() / weights.sum()
        assert weighted_lm_loss(model, batch, layout, 4.0, structural_targets=False).item() == pytest.approx(expected.item(), rel=1e-5)
        assert weighted_lm_loss(model, batch, layout, 4.0).item() != pytest.approx(expected.item(), rel=1e-3)


def test_scaled_item_embeddings_scale_the_input_only_and_survive_a_reload(toy, tmp_path):
    dataset, _ = toy
    _, layout = train_tokenizer(["looking for tea"] * 10, n_items=dataset.n_items, vocab_size=300, min_frequency=1)
    config = preset("tiny", scale_item_embeddings=True)
    model = build_base(config, layout).eval()
    batch = collate([[layout.id("<bos>"), layout.item_token(0), layout.item_token(1)]], layout.id("<pad>"))
    multiplier = config.n_embd**0.5
    with torch.no_grad():
        scaled = model(**batch).logits
        embeds = model.transformer.wte(batch["input_ids"]) * multiplier
        hidden = model.transformer(inputs_embeds=embeds, attention_mask=batch["attention_mask"],
                                   position_ids=batch["position_ids"]).last_hidden_state
        expected = hidden @ model.lm_head.weight.T  # the tied head itself is not scaled
        unscaled = build_base(preset("tiny"), layout).eval()(**batch).logits
    assert torch.allclose(scaled, expected, atol=1e-5)
    assert not torch.allclose(scaled, unscaled, atol=1e-3)
    model.save_pretrained(tmp_path / "base")
    reloaded = load_base(tmp_path / "base", layout).eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(**batch).logits, scaled, atol=1e-6)


def test_copy_gate_starts_at_the_train_repeat_rate(toy):
    from recommender.copy_head import repeat_rate
    from recommender.model import add_adapter, copy_head_of

    assert repeat_rate([[1, 2, 1, 3], [4], [5, 5]]) == pytest.approx(2 / 4)
    assert repeat_rate([]) == 0.0
    dataset, _ = toy
    _, layout = train_tokenizer(["tea"] * 10, n_items=dataset.n_items, vocab_size=300, min_frequency=1)
    config = preset("tiny", copy_gate_prior=True, copy_head_dim=8)
    head = copy_head_of(add_adapter(build_base(config, layout), config, layout, repeat_prior=0.2))
    assert torch.sigmoid(head.gate(torch.randn(3, config.n_embd))).flatten().tolist() == pytest.approx([0.2] * 3)
    tiny_rate = copy_head_of(add_adapter(build_base(config, layout), config, layout, repeat_prior=0.0))
    assert torch.sigmoid(tiny_rate.gate.bias).item() == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="repeat_prior"):
        add_adapter(build_base(config, layout), config, layout)
