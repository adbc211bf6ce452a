"""Services as training targets: serialization, the held-out split, the loss and the evaluation."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from recommender.corpus import service_examples
from recommender.dataset import (SERVICE_QUERY_DELAY, Dataset, Example, History, Purchase, ServiceItem, ServiceTake,
                                 leave_one_out, service_split)
from recommender.gpt import GPTRecommender
from recommender.serialization import Serializer
from recommender.service_eval import evaluate_baselines, habit_scores, service_metrics, service_ranks
from recommender.tokenizer import train_tokenizer
from tests.test_rec_model_toy import toy_dataset

N_SERVICES = 4
FAST = dict(pretrain_epochs=2, finetune_epochs=3, patience=3, torch_threads=1)
# Copying a customer's own past service back takes the tiny model some steps to learn: with 4 service
# examples per history per epoch it reached HR@1 0.84-0.89 over three seeds (popularity 0.35), with 2, 0.39-0.86.
SERVICE_FIT = dict(FAST, finetune_epochs=15, patience=15, service_loss_weight=4.0, finetune_service_cuts=4)


def services_toy(n_customers: int = 80, seed: int = 1) -> Dataset:
    """The toy store where each customer has one favourite service, taken with most purchases.

    Service ``s`` applies to every product; nothing but the customer's own
    past takes tells which one they favour, so a model that learns service
    targets from histories beats popularity, and one that does not cannot.
    """
    rng = random.Random(seed)
    base = toy_dataset(n_customers=n_customers, seed=seed)
    everything = frozenset(range(base.n_items))
    services = tuple(ServiceItem(index=s, key=f"SVC{s}", name_en=f"service {s}", name_zh=f"服务{s}", kind=f"k{s}",
                                 items=everything) for s in range(N_SERVICES))
    histories = []
    for c, history in enumerate(base.histories):
        favourite = c % N_SERVICES if c % 5 else 0  # service 0 a little more popular overall
        takes = tuple(ServiceTake(time=p.time, service=favourite if rng.random() < 0.9 else rng.randrange(N_SERVICES),
                                  item=p.item)
                      for p in history.purchases if rng.random() < 0.8)
        histories.append(replace(history, services=takes))
    return replace(base, histories=tuple(histories), services=services)


NOW = datetime(2026, 3, 1)


def _serializer(dataset: Dataset, n_services: int) -> Serializer:
    tokenizer, layout = train_tokenizer(["service words and more words"], n_items=dataset.n_items,
                                        n_services=n_services, vocab_size=300, min_frequency=1)
    return Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8, use_text=False)


def test_a_service_follows_the_purchase_it_was_taken_for():
    dataset = services_toy()
    serializer = _serializer(dataset, N_SERVICES)
    layout = serializer.layout
    day = NOW - timedelta(days=3)
    history = History("c", "en", "gold", (Purchase(day, 1), Purchase(day, 2), Purchase(day + timedelta(days=1), 3)), (),
                      (ServiceTake(day, 0, 2), ServiceTake(day, 3, 1)))
    ids = serializer.encode(history, NOW)
    body = [i for i in ids if i not in layout.structural.values()]
    assert body == [layout.item_token(1), layout.service_token(3), layout.item_token(2), layout.service_token(0),
                    layout.item_token(3)]
    # A take at the prediction time is not seen, nor after it.
    assert layout.service_token(0) not in serializer.encode(history, day)


def test_a_vocabulary_without_service_tokens_ignores_takes():
    dataset = services_toy()
    plain = _serializer(dataset, 0)
    history = dataset.histories[0]
    without = replace(history, services=())
    assert plain.encode(history, NOW) == plain.encode(without, NOW)


def test_the_service_split_holds_out_takes_after_the_validation_cut_and_never_leaks():
    dataset = services_toy()
    split, services = leave_one_out(dataset), service_split(dataset)
    assert services.valid and services.test
    train_times = {h.customer: max((t.time for t in h.services), default=None) for h in split.train}
    for example in services.valid + services.test:
        assert example.kind == "service"
        take_time = example.time - SERVICE_QUERY_DELAY
        history = example.history
        assert all(t.time < take_time for t in history.services)  # the order's own services are unknown
        assert any(p.time == take_time for p in history.purchases)  # its products are known
        seen = train_times[history.customer]
        assert seen is None or seen < take_time  # training never saw this take
    for example in services.test:
        full = next(h for h in dataset.histories if h.customer == example.history.customer)
        assert example.time - SERVICE_QUERY_DELAY >= full.purchases[-1].time


def test_service_examples_end_at_a_take_with_its_order():
    dataset = services_toy()
    examples = service_examples(leave_one_out(dataset).train, 2, random.Random(0), max_delay_days=5)
    assert examples and all(e.kind == "service" for e in examples)
    for example in examples:
        history = example.history
        take_times = {t.time for t in history.services}
        assert all(t < example.time for t in take_times)
        assert timedelta(minutes=1) <= example.time - max(p.time for p in history.purchases) <= timedelta(days=5, minutes=1)


def test_service_metrics_by_hand():
    dataset = services_toy()
    history = History("c", "en", "gold", (Purchase(NOW, 0),), (), (ServiceTake(NOW - timedelta(days=9), 2, 0),))
    examples = [Example(history, target=2, time=NOW, kind="service"), Example(history, target=1, time=NOW, kind="service")]
    scores = np.array([[0.0, 3.0, 2.0, 1.0], [0.0, 3.0, 2.0, 1.0]])
    ranks = service_ranks(dataset, examples, scores)
    assert ranks.tolist() == [2, 1]
    metrics = service_metrics(ranks, ranks)
    assert metrics["test_hr1"] == 0.5 and metrics["test_hr3"] == 1.0
    assert metrics["test_ndcg3"] == pytest.approx((1 / np.log2(3) + 1) / 2)
    assert metrics["test_mrr"] == pytest.approx(0.75)
    # A service that applies to nothing the customer owns never outranks the target.
    narrow = replace(dataset, services=(replace(dataset.services[0], items=frozenset({99})),) + dataset.services[1:])
    assert service_ranks(narrow, examples[:1], np.array([[9.0, 0.0, 1.0, 0.0]])).tolist() == [1]
    # The habit baseline puts the customer's own service first.
    habit = habit_scores(dataset, leave_one_out(dataset), examples[:1])
    assert int(np.argmax(habit[0])) == 2


@pytest.fixture(scope="module")
def fitted_services(tmp_path_factory):
    dataset = services_toy(n_customers=200)
    split = leave_one_out(dataset)
    model = GPTRecommender("tiny", use_text=False, work_dir=tmp_path_factory.mktemp("svc"), **SERVICE_FIT)
    model.fit(dataset, split, progress=False)
    return dataset, split, model


def test_the_model_learns_which_service_each_customer_takes(fitted_services):
    dataset, split, model = fitted_services
    services = service_split(dataset)
    assert model.knows_services
    scores = model.score_services(services.test)
    assert scores.shape == (len(services.test), N_SERVICES) and np.isfinite(scores).all()
    learned = service_metrics(service_ranks(dataset, services.test, scores), service_ranks(dataset, services.valid,
                              model.score_services(services.valid)))
    popularity = evaluate_baselines(dataset, split, services)["svc-pop"]
    # Popularity cannot tell customers apart; a model that reads their takes can.
    assert learned["test_hr1"] > popularity["test_hr1"] + 0.15, (learned, popularity)


def test_services_reload_identically(fitted_services, tmp_path_factory):
    dataset, _, model = fitted_services
    services = service_split(dataset)
    again = GPTRecommender.load(model.work_dir)
    assert again.knows_services
    np.testing.assert_allclose(again.score_services(services.test), model.score_services(services.test), atol=1e-5)


def test_a_model_without_services_says_so():
    dataset = toy_dataset(n_customers=30)
    model = GPTRecommender("tiny", use_text=False, **dict(FAST, finetune_epochs=1, pretrain_epochs=1))
    model.fit(dataset, leave_one_out(dataset), progress=False)
    assert not model.knows_services
    with pytest.raises(ValueError, match="without services"):
        model.score_services([])


def test_the_evaluation_report_has_the_service_table(tmp_path):
    from recommender import evaluate

    dataset = services_toy()
    evaluate.evaluate(dataset, ["pop"], evaluate.ModelOptions(), tmp_path, progress=False, isolate=False)
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["service_baselines"]) == {"svc-pop", "svc-habit"}
    # Each customer favours one service: their own history beats popularity.
    assert report["service_baselines"]["svc-habit"]["test_hr1"] > report["service_baselines"]["svc-pop"]["test_hr1"]
    markdown = (tmp_path / "report.md").read_text()
    assert "## Services: which one is taken with an order" in markdown and "| svc-habit |" in markdown


def test_the_service_profile_lists_the_most_taken_services_first():
    dataset = services_toy()
    tokenizer, layout = train_tokenizer(["service words"], n_items=dataset.n_items, n_services=N_SERVICES,
                                        vocab_size=300, min_frequency=1)
    serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8,
                            use_text=False, profile_services=2)
    day = NOW - timedelta(days=40)
    takes = (ServiceTake(day, 1, 0), ServiceTake(day + timedelta(days=1), 3, 0), ServiceTake(day + timedelta(days=2), 1, 0),
             ServiceTake(day + timedelta(days=3), 2, 0), ServiceTake(NOW, 0, 0))
    history = History("c", "en", "gold", (Purchase(day, 0),), (), takes)
    ids = serializer.encode(history, NOW)
    # Service 1 twice, then the latest of the once-taken (2 over 3); the take at NOW is not seen.
    assert ids[3:5] == [layout.service_token(1), layout.service_token(2)]
    assert layout.service_token(0) not in ids
    assert _serializer(dataset, N_SERVICES).encode(history, NOW)[3] != layout.service_token(1)  # off by default


def test_the_profile_is_never_a_service_target():
    import torch

    from recommender.model import add_adapter, build_base
    from recommender.config import preset
    from recommender.serialization import collate
    from recommender.train import next_item_loss

    dataset = services_toy()
    tokenizer, layout = train_tokenizer(["service words"], n_items=dataset.n_items, n_services=N_SERVICES,
                                        vocab_size=300, min_frequency=1)
    config = preset("tiny")
    model = add_adapter(build_base(config, layout), config, layout)
    profile_only = [layout.id("<bos>"), layout.id("<lang_en>"), layout.id("<tier_gold>"), layout.service_token(1),
                    layout.service_token(2), layout.id("<purchase>"), layout.item_token(3), layout.id("<rec>"),
                    layout.item_token(4)]
    batch = collate([profile_only], layout.id("<pad>"))
    torch.manual_seed(0)
    assert next_item_loss(model.eval(), batch, layout, service_weight=1.0) == next_item_loss(model, batch, layout,
                                                                                              service_weight=0.0)
    # A take after a purchase is a target.
    with_take = profile_only[:7] + [layout.service_token(0)] + profile_only[7:]
    batch = collate([with_take], layout.id("<pad>"))
    assert next_item_loss(model, batch, layout, service_weight=1.0) > next_item_loss(model, batch, layout,
                                                                                     service_weight=0.0)
