"""Why an item was recommended: leave-one-out attribution on the model itself.

For each recent event of the context (a purchase, a consultation note, the
current conversation) the input is serialized once more without it and
re-scored; the event's weight for an item is the drop in that item's
log-probability. All variants of one context go through the model in one
batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from recommender.serialization import CONVERSATION, Serializer


class _Scorer(Protocol):
    serializer: Serializer

    def score_token_ids(self, sequences: list[list[int]], kind: str = "product") -> np.ndarray: ...


class _ContextLike(Protocol):
    history: object
    now: datetime
    conversation: str
    language: str | None
    tier: str | None


@dataclass(frozen=True)
class Evidence:
    """One event that raised an item's score.

    ``kind`` is "purchase", "note" or "conversation"; ``position`` indexes
    ``history.purchases`` or ``history.notes`` (-1 for the conversation);
    ``drop`` is how much the item's log-probability falls without the event.
    """

    kind: str
    position: int
    time: datetime | None
    drop: float


Candidate = tuple[str, int, datetime | None]  # (kind, position, time) of one left-out event


def leave_one_out_inputs(serializer: Serializer, context: _ContextLike, *,
                         max_events: int = 24) -> tuple[list[Candidate], list[list[int]]]:
    """The events to try and the inputs to score: the full input first, then one per candidate.

    Candidates are the ``max_events`` most recent events (older ones rarely
    fit the budget anyway) and, when there is text, the conversation.
    """
    history, now = context.history, context.now
    events = serializer.events(history, now)  # type: ignore[arg-type]

    def encode(skip: frozenset[tuple[str, int]] = frozenset()) -> list[int]:
        return serializer.encode(history, now, conversation=context.conversation, language=context.language,  # type: ignore[arg-type]
                                 tier=context.tier, skip=skip, events=events)

    candidates: list[Candidate] = [(event.kind, event.position, event.time) for event in events[-max_events:]]
    variants = [encode()] + [encode(skip=frozenset({(k, p)})) for k, p, _ in candidates]
    if context.conversation and serializer.use_text:
        candidates.append((CONVERSATION, -1, None))
        variants.append(encode(skip=frozenset({(CONVERSATION, -1)})))
    return candidates, variants


def evidence_from_scores(candidates: Sequence[Candidate], logp: np.ndarray, items: Sequence[int], *,
                         top_n: int = 3) -> dict[int, list[Evidence]]:
    """Each item's strongest evidence from the scores of ``leave_one_out_inputs``' inputs (rows in that order)."""
    result: dict[int, list[Evidence]] = {}
    for item in items:
        drops = logp[0, item] - logp[1:, item]
        order = np.argsort(-drops, kind="stable")
        result[item] = [
            Evidence(kind=candidates[j][0], position=candidates[j][1], time=candidates[j][2], drop=float(drops[j]))
            for j in order[:top_n]
            if drops[j] > 0
        ]
    return result


def explain(
    model: _Scorer,
    context: _ContextLike,
    items: Sequence[int],
    *,
    kind: str = "product",
    top_n: int = 3,
    max_events: int = 24,
) -> dict[int, list[Evidence]]:
    """The events that moved each of ``items`` up most, strongest first.

    Args:
        model: A ``GPTRecommender`` (anything with ``serializer`` and ``score_token_ids``).
        context: A ``recommender.gpt.Context``.
        items: Indices (within ``kind``) of the recommended items to explain.
        kind: "product", "service" or "coupon".
        top_n: Evidence kept per item; only events whose removal lowers the score.
        max_events: Only the most recent events are tried.

    Returns:
        ``{item: [Evidence, ...]}`` with up to ``top_n`` entries each.
    """
    candidates, variants = leave_one_out_inputs(model.serializer, context, max_events=max_events)
    return evidence_from_scores(candidates, model.score_token_ids(variants, kind), items, top_n=top_n)
