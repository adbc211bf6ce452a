"""A toy store whose consultation notes predict the next purchase, shared by the model tests.

Each customer buys inside one category at a time; before switching to a new
category they say so in a consultation note ("looking for tea"). Purchase
history alone cannot see the switch coming; the note can.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from recommender.dataset import Dataset, History, Item, Note, Purchase, leave_one_out

KEYWORDS = (("tea", "茶叶"), ("shoes", "跑鞋"), ("camera", "相机"), ("diapers", "尿布"), ("ink", "墨盒"), ("coffee", "咖啡"))
START = datetime(2025, 1, 1)


def toy_dataset(n_customers: int = 60, n_items: int = 24, seed: int = 0) -> Dataset:
    """A deterministic toy store: items of ``len(KEYWORDS)`` categories, notes announcing each switch."""
    rng = random.Random(seed)
    items = tuple(
        Item(index=i, key=f"SKU{i}", name_en=f"{KEYWORDS[i % len(KEYWORDS)][0]} model {i}",
             name_zh=f"{KEYWORDS[i % len(KEYWORDS)][1]} {i}号", category=KEYWORDS[i % len(KEYWORDS)][0],
             brand=f"brand{i % 3}", price=10.0 + i, repurchase_days=30 if i % 2 else None)
        for i in range(n_items)
    )
    histories = []
    for c in range(n_customers):
        time = START + timedelta(days=rng.randint(0, 30))
        purchases, notes = [], []
        category = rng.randrange(len(KEYWORDS))
        for _ in range(rng.randint(2, 4)):
            category = (category + rng.randint(1, len(KEYWORDS) - 1)) % len(KEYWORDS)
            word = KEYWORDS[category][rng.randrange(2)]
            notes.append(Note(time=time, text=f"hello, I am looking for {word}", topic="product_question"))
            for _ in range(rng.randint(1, 2)):
                time += timedelta(days=rng.randint(1, 20), hours=1)
                choices = [i for i in range(n_items) if i % len(KEYWORDS) == category]
                purchases.append(Purchase(time=time, item=rng.choice(choices)))
            time += timedelta(days=rng.randint(1, 10))
        histories.append(History(customer=f"c{c}", language=rng.choice(["en", "zh"]), tier=rng.choice(["bronze", "gold"]),
                                 purchases=tuple(purchases), notes=tuple(notes)))
    return Dataset(name="toy", items=items, histories=tuple(histories), has_text=True)


def test_toy_dataset_is_deterministic_and_splits():
    first, second = toy_dataset(seed=3), toy_dataset(seed=3)
    assert first == second
    split = leave_one_out(first)
    assert split.test and len(split.test) == len(split.valid)


def test_toy_note_names_the_category_of_the_next_purchase():
    dataset = toy_dataset()
    for history in dataset.histories:
        for purchase in history.purchases:
            last_note = [n for n in history.notes if n.time < purchase.time][-1]
            assert dataset.items[purchase.item].category in last_note.text or any(
                zh in last_note.text for en, zh in KEYWORDS if en == dataset.items[purchase.item].category
            )
