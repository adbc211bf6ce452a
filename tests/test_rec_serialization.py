"""Serialization invariants: deterministic, within budget, nothing from the future, text switch."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.dataset import History, Note, Purchase, leave_one_out
from recommender.config import TrainConfig, preset
from recommender.corpus import finetune_examples, pretraining_sequences
from recommender.serialization import CONVERSATION, Serializer, collate, due_token, gap_token
from recommender.tokenizer import GAP_BUCKETS, load_tokenizer, save_tokenizer, train_tokenizer
from tests.test_rec_model_toy import toy_dataset

NOW = datetime(2026, 1, 1)
N_ITEMS = 12


@pytest.fixture(scope="module")
def vocab():
    texts = ["looking for tea", "我想买茶叶", "future secret zebra", "my camera broke", "跑鞋 shoes"] * 20
    return train_tokenizer(texts, n_items=N_ITEMS, n_services=2, n_coupons=3, vocab_size=400, min_frequency=1)


def make_serializer(vocab, budget=64, use_text=True):
    tokenizer, layout = vocab
    return Serializer(tokenizer, layout, budget=budget, max_note_tokens=8, max_conversation_tokens=8, use_text=use_text)


histories = st.builds(
    lambda purchases, notes: History(
        customer="c", language="en", tier="gold",
        purchases=tuple(sorted((Purchase(NOW - timedelta(hours=h), i) for h, i in purchases), key=lambda p: p.time)),
        notes=tuple(sorted((Note(NOW - timedelta(hours=h), t, "x") for h, t in notes), key=lambda n: n.time)),
    ),
    st.lists(st.tuples(st.integers(-500, 5000), st.integers(0, N_ITEMS - 1)), max_size=40),
    st.lists(st.tuples(st.integers(-500, 5000), st.sampled_from(["looking for tea", "my camera broke", "我想买茶叶"])),
             max_size=10),
)


@settings(max_examples=30, deadline=None)
@given(history=histories, budget=st.integers(20, 80), conversation=st.sampled_from(["", "跑鞋 shoes please"]))
def test_budget_respected_and_structure_kept(vocab, history, budget, conversation):
    serializer = make_serializer(vocab, budget=budget)
    layout = serializer.layout
    ids = serializer.encode(history, NOW, conversation=conversation)
    assert len(ids) <= budget
    assert ids[0] == layout.id("<bos>") and ids[-1] == layout.id("<rec>")
    # The conversation (up to its cap) is always there, whatever the budget.
    conversation_ids = list(serializer.text_ids(conversation))[-serializer.max_conversation_tokens :]
    assert ids[-2 - len(conversation_ids) : -1] == [layout.id("<now>"), *conversation_ids]
    assert ids == serializer.encode(history, NOW, conversation=conversation)  # deterministic


@settings(max_examples=30, deadline=None)
@given(history=histories)
def test_nothing_at_or_after_now_appears(vocab, history):
    serializer = make_serializer(vocab, budget=400)
    layout = serializer.layout
    ids = serializer.encode(history, NOW)
    past_items = {layout.item_token(p.item) for p in history.purchases if p.time < NOW}
    items_in_input = {t for t in ids if layout.item_offset <= t < layout.item_offset + N_ITEMS}
    assert items_in_input == past_items
    assert ids.count(layout.id("<purchase>")) == sum(p.time < NOW for p in history.purchases)
    assert ids.count(layout.id("<note>")) == sum(n.time < NOW for n in history.notes)


def test_the_future_cannot_change_the_input(vocab):
    serializer = make_serializer(vocab)
    past = History("c", "en", "gold", (Purchase(NOW - timedelta(days=3), 1),), (Note(NOW - timedelta(days=2), "my camera broke", "q"),))
    future = History("c", "en", "gold", past.purchases + (Purchase(NOW, 2), Purchase(NOW + timedelta(days=1), 3)),
                     past.notes + (Note(NOW + timedelta(hours=1), "future secret zebra", "q"),))
    assert serializer.encode(past, NOW) == serializer.encode(future, NOW)


def test_oldest_events_are_dropped_first(vocab):
    serializer = make_serializer(vocab, budget=24)
    layout = serializer.layout
    purchases = tuple(Purchase(NOW - timedelta(days=30 - d), d % N_ITEMS) for d in range(20))
    ids = serializer.encode(History("c", "en", "gold", purchases, ()), NOW)
    kept = [t - layout.item_offset for t in ids if layout.item_offset <= t < layout.item_offset + N_ITEMS]
    expected = [p.item for p in purchases][-len(kept):]
    assert kept == expected and 0 < len(kept) < 20


def test_without_text_no_note_or_conversation_token(vocab):
    serializer = make_serializer(vocab, use_text=False)
    layout = serializer.layout
    history = History("c", "zh", "silver", (Purchase(NOW - timedelta(days=1), 4),), (Note(NOW - timedelta(days=2), "my camera broke", "q"),))
    ids = serializer.encode(history, NOW, conversation="looking for tea")
    text_ids = [t for t in ids if t >= len(layout.structural) and not layout.item_offset <= t < layout.vocab_size]
    assert text_ids == [] and layout.id("<note>") not in ids
    assert ids == [layout.id("<bos>"), layout.id("<lang_zh>"), layout.id("<tier_silver>"), layout.id("<gap_1w>"),
                   layout.id("<purchase>"), layout.item_token(4), layout.id("<now>"), layout.id("<rec>")]


def test_without_the_purchase_marker_a_purchase_is_its_item_token(vocab):
    tokenizer, layout = vocab
    serializer = Serializer(tokenizer, layout, budget=24, max_note_tokens=8, max_conversation_tokens=8,
                            use_text=False, purchase_marker=False)
    purchases = tuple(Purchase(NOW - timedelta(hours=20 - d), d % N_ITEMS) for d in range(20))
    ids = serializer.encode(History("c", "en", "gold", purchases, ()), NOW)
    assert layout.id("<purchase>") not in ids
    # Header 3 + <gap_1d> + <now> <rec> leave 18 tokens: 18 purchases instead of the marker's 9, newest kept.
    assert ids[4:-2] == [layout.item_token(p.item) for p in purchases[-18:]]
    marked = make_serializer(vocab, budget=24, use_text=False).encode(History("c", "en", "gold", purchases, ()), NOW)
    assert marked.count(layout.id("<purchase>")) == 9


def test_models_saved_before_the_marker_switch_keep_the_marker(tmp_path):
    config = preset("items")
    assert config.purchase_marker is False and preset("small").purchase_marker is True
    config.save(tmp_path / "config.json")
    values = json.loads((tmp_path / "config.json").read_text())
    del values["purchase_marker"]
    (tmp_path / "config.json").write_text(json.dumps(values))
    assert TrainConfig.load(tmp_path / "config.json").purchase_marker is True


def test_anonymous_visitor_is_served_from_the_conversation(vocab):
    serializer = make_serializer(vocab)
    ids = serializer.encode(None, NOW, conversation="looking for tea", language="zh")
    layout = serializer.layout
    assert ids[:3] == [layout.id("<bos>"), layout.id("<lang_zh>"), layout.id("<tier_none>")]
    assert list(serializer.text_ids("looking for tea")) == ids[4:-1]


@pytest.mark.parametrize(("days", "token"), [(0.5, "<gap_1d>"), (3, "<gap_1w>"), (20, "<gap_1m>"), (400, "<gap_old>")])
def test_gap_buckets(days, token):
    assert gap_token(NOW - timedelta(days=days), NOW) == token


def test_collate_left_pads_so_every_row_ends_at_the_last_position():
    batch = collate([[5, 6, 7], [8]], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [0, 0, 8]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert batch["position_ids"].tolist() == [[0, 1, 2], [0, 0, 0]]


def test_tokenizer_round_trip_and_contiguous_catalog_ids(vocab, tmp_path):
    tokenizer, layout = vocab
    save_tokenizer(tokenizer, layout, tmp_path)
    again, layout_again = load_tokenizer(tmp_path)
    assert layout_again == layout
    assert again.convert_ids_to_tokens([layout.item_token(5)]) == ["<item_5>"]
    assert layout.kind_range("coupon") == (layout.coupon_offset, layout.coupon_offset + 3)
    text = "我想买茶叶 and running shoes"
    assert again.decode(again.encode(text, add_special_tokens=False)) == text


def test_training_inputs_never_contain_validation_or_test_targets():
    toy = toy_dataset(n_customers=20)
    # Give every validation/test target its own fresh catalog item: none may appear in any training input.
    items, histories = list(toy.items), []
    for history in toy.histories:
        purchases = list(history.purchases)
        if len(purchases) >= 3:
            for position in (-2, -1):
                items.append(replace(items[0], index=len(items), key=f"HELD{len(items)}"))
                purchases[position] = replace(purchases[position], item=len(items) - 1)
        histories.append(replace(history, purchases=tuple(purchases)))
    dataset = replace(toy, items=tuple(items), histories=tuple(histories))
    held_out = set(range(toy.n_items, dataset.n_items))
    split = leave_one_out(dataset)
    config = preset("tiny")
    tokenizer, layout = train_tokenizer(["looking for tea"], n_items=dataset.n_items, vocab_size=300, min_frequency=1)
    serializer = Serializer(tokenizer, layout, budget=config.context_tokens, max_note_tokens=8, max_conversation_tokens=8)
    examples = finetune_examples(split.train, 100, random.Random(0))
    assert examples and not {e.target for e in examples} & held_out
    sequences = pretraining_sequences(dataset, split, serializer, config, random.Random(0))
    history_sequences = [s for s in sequences if s[1] != layout.id("<catalog>")]
    assert history_sequences
    assert not {t - layout.item_offset for s in history_sequences for t in s} & held_out


@pytest.mark.parametrize(("days", "cycle", "token"), [(5, 30, "<due_0>"), (29, 30, "<due_3>"), (31, 30, "<due_4>"),
                                                      (45, 30, "<due_6>"), (200, 30, "<due_8>")])
def test_due_buckets(days, cycle, token):
    assert due_token(NOW - timedelta(days=days), NOW, cycle) == token


def test_consumables_carry_their_due_state_at_the_prediction_time(vocab):
    tokenizer, layout = vocab
    cycles = [30 if i == 1 else None for i in range(N_ITEMS)]
    serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8,
                            repurchase_days=cycles)
    history = History("c", "en", "gold", (Purchase(NOW - timedelta(days=20), 1), Purchase(NOW - timedelta(days=19), 4)), ())
    ids = serializer.encode(history, NOW)
    consumable = ids.index(layout.item_token(1))
    assert ids[consumable + 1] == layout.id("<due_1>")  # 20 of 30 days
    durable = ids.index(layout.item_token(4))
    assert ids[durable + 1] == layout.id("<now>")  # not a consumable: no due token
    later = serializer.encode(history, NOW + timedelta(days=9))
    assert later[later.index(layout.item_token(1)) + 1] == layout.id("<due_3>")  # 29 of 30 days: due now
    with pytest.raises(ValueError, match="repurchase_days"):
        Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8, repurchase_days=[30])


def test_leaving_an_event_out_keeps_the_window_so_the_variant_shares_the_prefix_before_it(vocab):
    serializer = make_serializer(vocab, budget=40)
    layout = serializer.layout
    # Far more purchases than the budget holds, all in one gap bucket.
    history = History("c", "en", "gold", tuple(Purchase(NOW - timedelta(hours=60 - h), h % N_ITEMS) for h in range(60)),
                      (Note(NOW - timedelta(hours=1, minutes=30), "looking for tea", "x"),))
    base = serializer.encode(history, NOW, conversation="跑鞋 shoes please")
    assert len(base) == 40 or len(base) == 39
    newest = history.purchases[-1]
    variant = serializer.encode(history, NOW, conversation="跑鞋 shoes please", skip=frozenset({("purchase", 59)}))
    removed = base.index(layout.item_token(newest.item), base.index(layout.id("<note>")))
    # Exactly the event's own tokens are gone; nothing older came in at the front.
    assert variant == base[: removed - 1] + base[removed + 1 :]
    silent = serializer.encode(history, NOW, conversation="跑鞋 shoes please", skip=frozenset({(CONVERSATION, -1)}))
    assert silent[: base.index(layout.id("<now>")) + 1] == base[: base.index(layout.id("<now>")) + 1]
    assert silent[-2:] == [layout.id("<now>"), layout.id("<rec>")]


def test_without_end_markers_an_input_stops_at_its_last_event_unless_there_is_a_conversation(vocab):
    tokenizer, layout = vocab
    serializer = Serializer(tokenizer, layout, budget=64, max_note_tokens=8, max_conversation_tokens=8,
                            use_text=True, end_markers=False)
    marked = make_serializer(vocab)
    history = History(customer="c", language="en", tier="gold", notes=(),
                      purchases=(Purchase(NOW - timedelta(days=9), 3), Purchase(NOW - timedelta(days=2), 5)))
    quiet = serializer.encode(history, NOW)
    assert quiet[-1] == layout.item_token(5)
    assert quiet + [layout.id("<now>"), layout.id("<rec>")] == marked.encode(history, NOW)
    spoken = serializer.encode(history, NOW, conversation="looking for tea")
    assert spoken == marked.encode(history, NOW, conversation="looking for tea") and spoken[-1] == layout.id("<rec>")
    assert serializer.encode(history, NOW, conversation="looking for tea", skip=frozenset({(CONVERSATION, -1)})) == quiet
    assert serializer.encode(None, NOW, language="en") == [layout.id("<bos>"), layout.id("<lang_en>"), layout.id("<tier_none>")]


def test_without_gap_tokens_events_follow_each_other_bare_and_fill_the_budget(vocab):
    tokenizer, layout = vocab
    bare = Serializer(tokenizer, layout, budget=12, max_note_tokens=8, max_conversation_tokens=2,
                      use_text=False, purchase_marker=False, end_markers=False, gap_tokens=False)
    history = History(customer="c", language="en", tier="gold", notes=(),
                      purchases=tuple(Purchase(NOW - timedelta(days=40 - d), d % N_ITEMS) for d in range(20)))
    ids = bare.encode(history, NOW)
    gaps = {layout.id(f"<gap_{name}>") for name, _ in GAP_BUCKETS}
    assert not gaps & set(ids) and len(ids) == 12
    assert ids[3:] == [layout.item_token(d % N_ITEMS) for d in range(11, 20)]  # the newest nine, oldest first
