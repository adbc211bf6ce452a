"""The training corpus: note outcomes, outcome cuts, old notes left out, no look-ahead."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from recommender.config import preset
from recommender.corpus import describes, finetune_examples, note_outcomes, pretraining_sequences
from recommender.dataset import Dataset, History, Item, Note, Purchase, leave_one_out
from recommender.serialization import Serializer
from recommender.tokenizer import train_tokenizer

T0 = datetime(2026, 1, 1)
N_ITEMS = 6


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def history(purchases: list[tuple[float, int]], notes: list[tuple[float, str]]) -> History:
    return History("c1", "en", "gold", tuple(Purchase(day(d), i) for d, i in purchases),
                   tuple(Note(day(d), text, "product_advice") for d, text in notes))


@pytest.fixture(scope="module")
def vocab():
    texts = ["my skin is dry in winter", "我的皮肤很干", "where is my parcel", "tea please"] * 20
    return train_tokenizer(texts, n_items=N_ITEMS, vocab_size=400, min_frequency=1)


def test_an_outcome_is_the_first_purchase_strictly_after_the_note_within_the_window():
    h = history([(0, 0), (1, 1), (3, 2), (20, 3), (30, 4)], [(0, "same instant"), (2.5, "soon"), (10, "too early")])
    found = [(note.text, position) for note, position in note_outcomes(h, days=7)]
    # The purchase at the note's own instant is not its outcome; day 20 is 10 days after day 10.
    assert found == [("same instant", 1), ("soon", 2)]
    assert note_outcomes(h, days=0.4) == []


def test_outcome_cuts_carry_the_note_either_as_history_or_as_the_conversation_never_both():
    h = history([(0, 0), (5, 1), (9, 2), (40, 3)], [(4, "my skin is dry in winter")])
    seen = set()
    for seed in range(30):
        examples = finetune_examples([h], 1, random.Random(seed), note_cuts=1, note_outcome_days=7)
        latest, *outcome = examples
        assert latest.target == 3 and latest.conversation == ""  # the latest purchase is always cut
        assert len(outcome) == 1 and outcome[0].target == 1 and outcome[0].time == day(5)
        example = outcome[0]
        assert all(p.time < example.time for p in example.history.purchases)
        assert all(n.time < example.time for n in example.history.notes)
        spoken = example.conversation == "my skin is dry in winter"
        assert spoken != any(n.text == example.conversation or n.text == "my skin is dry in winter"
                             for n in example.history.notes)
        seen.add(spoken)
    assert seen == {True, False}  # both forms occur
    assert len(finetune_examples([h], 1, random.Random(0))) == 1  # no outcome cuts unless asked


def test_notes_older_than_the_age_limit_are_left_out(vocab):
    tokenizer, layout = vocab
    serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8,
                            note_max_age_days=30)
    h = history([(0, 1)], [(1, "where is my parcel"), (45, "tea please")])
    ids = serializer.encode(h, day(50))
    assert ids.count(layout.id("<note>")) == 1
    assert serializer.text_ids("tea please")[0] in ids
    unlimited = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8)
    assert unlimited.encode(h, day(50)).count(layout.id("<note>")) == 2


def _dataset() -> Dataset:
    items = tuple(Item(i, f"P{i}", f"product {i}", f"商品{i}", "cat", "brand", 10.0, None) for i in range(N_ITEMS))
    histories = tuple(
        history([(0, c % N_ITEMS), (10, (c + 1) % N_ITEMS), (12, 5), (30, (c + 2) % N_ITEMS), (40, (c + 3) % N_ITEMS)],
                [(11, "my skin is dry in winter")])
        for c in range(4)
    )
    return Dataset(name="t", items=items, histories=tuple(replace(h, customer=f"c{i}") for i, h in enumerate(histories)),
                   has_text=True)


def test_pretraining_pairs_end_at_the_outcome_and_only_when_text_is_used(vocab):
    tokenizer, layout = vocab
    dataset = _dataset()
    split = leave_one_out(dataset)
    config = preset("tiny")
    for use_text, expected in ((True, 2 * len(split.train)), (False, 0)):
        serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8,
                                use_text=use_text)
        sequences = pretraining_sequences(dataset, split, serializer, config, random.Random(0))
        note_id = serializer.text_ids("my skin is dry in winter")[0]
        pairs = [s for s in sequences if s[-1] == layout.item_token(5) and note_id in s and s[1] != layout.id("<note>")
                 and layout.id("<purchase>") not in s]
        assert len(pairs) == expected
        if use_text:
            # One pair has the note as a past event, the other as the current conversation.
            assert sum(layout.id("<note>") in s for s in pairs) == len(split.train)


def test_catalog_lines_only_for_items_the_catalog_describes(vocab):
    tokenizer, layout = vocab
    described = _dataset()
    bare = replace(described, items=tuple(Item(i, f"P{i}", f"P{i}", f"P{i}", "", "", 0.0, None) for i in range(N_ITEMS)))
    assert all(describes(item) for item in described.items) and not any(describes(item) for item in bare.items)
    serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8)
    for dataset, lines in ((described, 2 * N_ITEMS), (bare, 0)):
        sequences = pretraining_sequences(dataset, leave_one_out(dataset), serializer, preset("tiny"), random.Random(0))
        assert sum(s[1] == layout.id("<catalog>") for s in sequences) == lines


def test_text_targets_are_the_purchases_right_after_a_note_or_a_spoken_conversation(vocab):
    import torch

    from recommender.train import after_text

    tokenizer, layout = vocab
    serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8)
    h = history([(0, 1), (2, 2), (5, 3)], [(1, "my skin is dry in winter")])
    for conversation, spoken in (("tea please", True), ("", False)):
        ids = serializer.encode(h, day(9), conversation=conversation)
        flags = after_text(torch.tensor([ids]), layout)[0].tolist()
        item_positions = [i for i, t in enumerate(ids) if layout.kind_range("product")[0] <= t < layout.kind_range("product")[1]]
        # The target of the slot before each item: only the one after the note (item 2) follows text.
        assert [flags[i - 1] for i in item_positions] == [False, True, False]
        assert flags[-1] is spoken  # <rec>: after the conversation, or after item 3 with nothing said


def test_a_config_saved_before_the_text_keys_existed_loads_as_it_was_trained(tmp_path):
    import json

    from recommender.config import BEFORE_KEY_EXISTED, TrainConfig

    saved = preset("small").to_dict()
    for key in BEFORE_KEY_EXISTED:
        del saved[key]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    old = TrainConfig.load(tmp_path / "config.json")
    assert old.note_max_age_days is None and old.finetune_note_cuts == 0 and old.text_target_weight == 1.0
    preset("small").save(tmp_path / "new.json")
    assert TrainConfig.load(tmp_path / "new.json") == preset("small")  # today's configs keep their own values
