"""Leave-one-out evidence: the event whose removal costs an item most comes first."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from recommender.dataset import History, Note, Purchase
from recommender.evidence import CONVERSATION, explain
from recommender.gpt import Context
from recommender.serialization import Serializer
from recommender.tokenizer import train_tokenizer

NOW = datetime(2026, 3, 1)


class KeywordModel:
    """A toy model: item 0 is likely exactly when the word "tea" is in the input; item 1 when item 2 was bought."""

    def __init__(self) -> None:
        tokenizer, layout = train_tokenizer(["looking for tea", "my printer jams", "thanks a lot", "跑鞋"] * 10,
                                            n_items=4, vocab_size=320, min_frequency=1)
        self.serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8)
        self.tea = set(self.serializer.text_ids(" tea")) - set(self.serializer.text_ids(" thanks a lot"))
        self.calls = 0

    def score_token_ids(self, sequences: list[list[int]], kind: str = "product") -> np.ndarray:
        self.calls += 1
        logits = np.zeros((len(sequences), 4))
        for row, sequence in enumerate(sequences):
            logits[row, 0] = 5.0 if self.tea & set(sequence) else 0.0
            logits[row, 1] = 3.0 if self.serializer.layout.item_token(2) in sequence else 0.0
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def history() -> History:
    return History(
        customer="c", language="en", tier="gold",
        purchases=(Purchase(NOW - timedelta(days=9), 2), Purchase(NOW - timedelta(days=5), 3)),
        notes=(Note(NOW - timedelta(days=20), "my printer jams", "q"), Note(NOW - timedelta(days=3), "looking for tea", "q"),
               Note(NOW - timedelta(days=1), "thanks a lot", "q"), Note(NOW + timedelta(days=1), "looking for tea", "q")),
    )


def test_planted_decisive_note_ranks_first_in_one_batch():
    model = KeywordModel()
    evidence = explain(model, Context(history=history(), now=NOW), [0, 1], top_n=3)
    assert model.calls == 1  # every leave-one-out variant scored in one batch
    assert [(e.kind, e.position) for e in evidence[0]] == [("note", 1)]
    assert evidence[0][0].drop > 0
    assert [(e.kind, e.position) for e in evidence[1]] == [("purchase", 0)]


def test_conversation_is_evidence_too_and_future_events_never_are():
    model = KeywordModel()
    context = Context(history=history(), now=NOW - timedelta(days=4), conversation="looking for tea")
    evidence = explain(model, context, [0])
    # The note about tea is in the future at this time; only the conversation mentions tea.
    assert [(e.kind, e.position) for e in evidence[0]] == [(CONVERSATION, -1)]


def test_items_without_support_get_no_evidence():
    evidence = explain(KeywordModel(), Context(history=history(), now=NOW), [3])
    assert evidence[3] == []


@pytest.mark.parametrize("top_n", [0, 1])
def test_top_n_caps_the_list(top_n):
    evidence = explain(KeywordModel(), Context(history=history(), now=NOW), [0], top_n=top_n)
    assert len(evidence[0]) == top_n


def test_redundant_events_share_no_credit():
    # A known limit of leave-one-out: two notes that each suffice both get zero drop.
    h = history()
    doubled = History(h.customer, h.language, h.tier, h.purchases,
                      h.notes[:1] + (Note(NOW - timedelta(days=2), "looking for tea", "q"),) + h.notes[1:])
    assert explain(KeywordModel(), Context(history=doubled, now=NOW), [0])[0] == []
