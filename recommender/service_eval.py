"""Service recommendation, evaluated on the service takes ``leave_one_out`` holds out.

Each held-out take (``recommender.dataset.service_split``) is one example:
the customer's history with the take's order (its products known, its
services not), ranked over the services that apply to a product the customer
owns or is buying (the rule the server applies), ties pessimistic. Metrics:
HR@1, HR@3, NDCG@3 and MRR on test, NDCG@3 on validation.

Two baselines score the same examples from the TRAIN split only:

- ``svc-pop``: how often train histories took each service;
- ``svc-habit``: the customer's own earlier takes of each service, then of
  each service kind (a careful customer takes warranties), ties by
  popularity: the rule a store would write by hand.

A model that ranked services from its product distribution alone (the
server's method for a model without service tokens) gives every applicable
service of an owned product the same score, so it is no better than the
catalog order and is not listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from recommender.dataset import Dataset, Example, ServiceSplit, Split
from recommender.metrics import hit_rate_at_k, ndcg_at_k, rank_of_targets

SERVICE_BASELINES = ("svc-pop", "svc-habit")
#: The protocol in one paragraph, for the report.
PROTOCOL = (
    "Each service taken with an order after the customer's validation cut is one example (taken before the test "
    "purchase: validation; from it on: test). The input is the history with that order's products, not its "
    "services, asked 1 minute after the order; services are ranked among those that apply to a product the "
    "customer owns or is buying, ties pessimistic. Baselines: svc-pop (train take counts), svc-habit (the "
    "customer's own earlier takes of the service, then of its kind, then popularity)."
)


def allowed_services(dataset: Dataset, examples: Sequence[Example]) -> np.ndarray:
    """Bool ``[n, n_services]``: the service applies to a product of the example's history."""
    allowed = np.zeros((len(examples), dataset.n_services), dtype=bool)
    for row, example in enumerate(examples):
        owned = {p.item for p in example.history.purchases}
        for service in dataset.services:
            allowed[row, service.index] = not service.items.isdisjoint(owned)
    return allowed


def service_ranks(dataset: Dataset, examples: Sequence[Example], scores: np.ndarray) -> np.ndarray:
    """1-based ranks of each example's service among its allowed services (disallowed never outrank)."""
    masked = np.where(allowed_services(dataset, examples), np.asarray(scores, dtype=np.float64), -np.inf)
    return rank_of_targets(masked, np.array([e.target for e in examples], dtype=np.int64))


def service_metrics(test_ranks: np.ndarray, valid_ranks: np.ndarray) -> dict[str, float]:
    """HR@1, HR@3, NDCG@3, MRR on test and NDCG@3 on validation."""
    return {
        "test_hr1": hit_rate_at_k(test_ranks, 1), "test_hr3": hit_rate_at_k(test_ranks, 3),
        "test_ndcg3": ndcg_at_k(test_ranks, 3),
        "test_mrr": float(np.mean(1.0 / test_ranks)) if test_ranks.size else 0.0,
        "valid_ndcg3": ndcg_at_k(valid_ranks, 3),
    }


def _train_counts(dataset: Dataset, split: Split) -> np.ndarray:
    counts = np.zeros(dataset.n_services)
    for history in split.train:
        for take in history.services:
            counts[take.service] += 1
    return counts


def popularity_scores(dataset: Dataset, split: Split, examples: Sequence[Example]) -> np.ndarray:
    """``svc-pop``: train take counts of each service, the same row for every example."""
    return np.tile(_train_counts(dataset, split), (len(examples), 1))


def habit_scores(dataset: Dataset, split: Split, examples: Sequence[Example]) -> np.ndarray:
    """``svc-habit``: own takes of the service, then of its kind, then popularity, as one lexicographic score."""
    counts = _train_counts(dataset, split)
    popularity = counts / (counts.max() + 1.0)  # below 1: only breaks ties
    kind_of = [service.kind for service in dataset.services]
    scores = np.empty((len(examples), dataset.n_services))
    for row, example in enumerate(examples):
        own = Counter(take.service for take in example.history.services)
        kinds = Counter(kind_of[take.service] for take in example.history.services)
        for s in range(dataset.n_services):
            scores[row, s] = 1000.0 * own[s] + 10.0 * kinds[kind_of[s]] + popularity[s]
    return scores


def baseline_scores(name: str, dataset: Dataset, split: Split, examples: Sequence[Example]) -> np.ndarray:
    """Scores of the baseline ``name`` (one of ``SERVICE_BASELINES``)."""
    if name == "svc-pop":
        return popularity_scores(dataset, split, examples)
    if name == "svc-habit":
        return habit_scores(dataset, split, examples)
    raise ValueError(f"unknown service baseline {name!r}; choose from {', '.join(SERVICE_BASELINES)}")


def evaluate_baselines(dataset: Dataset, split: Split, services: ServiceSplit) -> dict[str, dict[str, float]]:
    """Metrics of every service baseline on ``services``."""
    return {
        name: service_metrics(service_ranks(dataset, services.test, baseline_scores(name, dataset, split, services.test)),
                              service_ranks(dataset, services.valid,
                                            baseline_scores(name, dataset, split, services.valid)))
        for name in SERVICE_BASELINES
    }
