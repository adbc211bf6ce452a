"""The recommender's dataset layer: store loading, sequence files, and the split rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.dataset import (
    Dataset,
    History,
    Item,
    Note,
    Purchase,
    SequenceFileError,
    leave_one_out,
    load_sequence_file,
    load_store,
)
from store.db import transaction
from store.models import (
    Category,
    Consultation,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Tier,
)

T0 = datetime(2026, 1, 1, 12, 0)


def _day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def _build_store(session_factory) -> None:
    """Three products; alice buys 5 lines (one cancelled order, a 2-line last order), bob 1, carol none."""
    with transaction(session_factory) as session:
        category = Category(code="beauty", name_en="Beauty", name_zh="美妆")
        session.add(category)
        session.flush()
        for sku, price, days in (("SKU-A", "10.00", 30), ("SKU-B", "20.50", None), ("SKU-C", "5.00", None)):
            session.add(Product(sku=sku, name_en=sku.lower(), name_zh="商品" + sku[-1], category_id=category.id,
                                brand="acme", price=Decimal(price), repurchase_days=days))
        alice = Customer(external_id="alice", tier=Tier.GOLD, language="zh", created_at=_day(0))
        bob = Customer(external_id="bob", created_at=_day(0))
        carol = Customer(external_id="carol", created_at=_day(0))
        session.add_all([alice, bob, carol])
        session.flush()
        products = {p.sku: p.id for p in session.query(Product)}

        def order(customer: Customer, number: str, day: int, skus: list[str], status=OrderStatus.DELIVERED):
            placed = Order(order_number=number, customer_id=customer.id, status=status, placed_at=_day(day))
            placed.lines = [OrderLine(product_id=products[s], unit_price=Decimal("1")) for s in skus]
            session.add(placed)

        order(alice, "A1", 1, ["SKU-A"])
        order(alice, "A2", 2, ["SKU-C"], status=OrderStatus.CANCELLED)
        order(alice, "A3", 3, ["SKU-B", "SKU-A"])
        order(alice, "A4", 5, ["SKU-C", "SKU-B"])
        order(bob, "B1", 4, ["SKU-B"])
        session.add_all([
            Consultation(customer_id=alice.id, created_at=_day(2), topic="product", text="dry skin, what cream?"),
            Consultation(customer_id=alice.id, created_at=_day(5), topic="order", text="where is A4?"),
            Consultation(customer_id=alice.id, created_at=_day(6), topic="return", text="return the cream"),
            Consultation(customer_id=carol.id, created_at=_day(1), topic="product", text="just asking"),
        ])


def test_load_store_reads_products_lines_and_consultations(session_factory, store_url):
    _build_store(session_factory)
    dataset = load_store(store_url)

    assert dataset.has_text
    assert [item.key for item in dataset.items] == ["SKU-A", "SKU-B", "SKU-C"]
    assert [item.index for item in dataset.items] == [0, 1, 2]
    assert dataset.items[1].price == pytest.approx(20.5) and dataset.items[0].repurchase_days == 30
    assert dataset.items[2].name_zh == "商品C" and dataset.items[0].category == "beauty"
    # carol never bought anything: no history.
    assert [h.customer for h in dataset.histories] == ["alice", "bob"]
    alice = dataset.histories[0]
    assert (alice.language, alice.tier) == ("zh", "gold")
    # The cancelled order A2 is gone; lines of one order keep their line-id order.
    assert [p.item for p in alice.purchases] == [0, 1, 0, 2, 1]
    assert [p.time for p in alice.purchases] == [_day(1), _day(3), _day(3), _day(5), _day(5)]
    assert [n.text for n in alice.notes] == ["dry skin, what cream?", "where is A4?", "return the cream"]


def test_split_of_the_store_hides_the_target_order_and_later_notes(session_factory, store_url):
    _build_store(session_factory)
    split = leave_one_out(load_store(store_url))

    assert [(e.history.customer, e.target) for e in split.valid] == [("alice", 2)]
    assert [(e.history.customer, e.target) for e in split.test] == [("alice", 1)]
    valid, test = split.valid[0], split.test[0]
    # Both targets are lines of order A4 (day 5): neither history holds any A4 line or the day-5 note.
    for example in (valid, test):
        assert [p.item for p in example.history.purchases] == [0, 1, 0]
        assert [n.text for n in example.history.notes] == ["dry skin, what cream?"]
    train = {h.customer: h for h in split.train}
    assert train["alice"] == valid.history
    assert [p.item for p in train["bob"].purchases] == [1]


def _histories():
    purchase_lists = st.lists(st.tuples(st.integers(0, 20), st.integers(0, 9)), max_size=8)
    note_lists = st.lists(st.integers(0, 20), max_size=5)
    return st.lists(st.tuples(purchase_lists, note_lists), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(_histories())
def test_split_never_leaks_targets_or_anything_at_or_after_them(raw):
    histories = tuple(
        History(customer=f"c{u}", language="en", tier="", notes=tuple(Note(_day(d), f"n{d}", "t") for d in sorted(notes)),
                purchases=tuple(Purchase(_day(d), item) for d, item in sorted(purchases, key=lambda x: x[0])))
        for u, (purchases, notes) in enumerate(raw)
    )
    items = tuple(Item(i, f"k{i}", "", "", "", "", 0.0, None) for i in range(10))
    split = leave_one_out(Dataset(name="h", items=items, histories=histories, has_text=True))

    eligible = [h for h in histories if len(h.purchases) >= 3]
    assert len(split.valid) == len(split.test) == len(eligible)
    assert len(split.train) == len(histories)
    train = {h.customer: h for h in split.train}
    for full, valid, test in zip(eligible, split.valid, split.test):
        assert (valid.target, valid.time) == (full.purchases[-2].item, full.purchases[-2].time)
        assert (test.target, test.time) == (full.purchases[-1].item, full.purchases[-1].time)
        for example in (valid, test):
            assert all(p.time < example.time for p in example.history.purchases)
            assert all(n.time < example.time for n in example.history.notes)
            # Nothing strictly before the target is dropped either.
            assert len(example.history.purchases) == sum(p.time < example.time for p in full.purchases)
        cut = train[full.customer]
        assert len(cut.purchases) <= len(full.purchases) - 2
        assert all(p.time < valid.time for p in cut.purchases)
        assert all(n.time < valid.time for n in cut.notes)
    for full in histories:
        if len(full.purchases) < 3:
            assert train[full.customer] == full


def test_sequence_file_gives_dense_items_and_daily_times(tmp_path):
    path = tmp_path / "seq.txt"
    path.write_text("# comment\nu1 10 20 30 10\n\nu2 20 40\n", encoding="utf-8")
    dataset = load_sequence_file(path)

    assert not dataset.has_text and dataset.name == "seq"
    assert [item.key for item in dataset.items] == ["10", "20", "30", "40"]
    assert [p.item for p in dataset.histories[0].purchases] == [0, 1, 2, 0]
    times = [p.time for p in dataset.histories[0].purchases]
    assert all(b - a == timedelta(days=1) for a, b in zip(times, times[1:]))
    split = leave_one_out(dataset)
    assert [e.target for e in split.test] == [0]
    assert [p.item for p in split.test[0].history.purchases] == [0, 1, 2]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [("u1 1 2\nu2\n", 2, "has no items"), ("u1 1 2\n\nu1 3\n", 3, "already appeared on line 1"),
     ("\n# only a comment\n", 1, "no user lines")],
)
def test_sequence_file_errors_name_file_and_line(tmp_path, text, line, reason):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SequenceFileError) as error:
        load_sequence_file(path)
    assert str(error.value).startswith(f"{path}:{line}:")
    assert reason in str(error.value)


def test_missing_sequence_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.txt"):
        load_sequence_file(tmp_path / "nothere.txt")


def test_atomic_file_becomes_time_ordered_sequences(tmp_path):
    from recommender.datasets_public import atomic_sequences, write_sequence_file

    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float",
             "7\t50\t3\t300", "7\t10\t4\t100", "8\t10\t5\t100", "7\t20\t1\t300", "7\t30\t2\t200"]
    sequences = atomic_sequences(inter)
    # Equal timestamps (50 and 20 at 300) keep file order.
    assert sequences == {"7": ["10", "30", "50", "20"], "8": ["10"]}
    dataset = load_sequence_file(write_sequence_file(sequences, tmp_path / "out" / "ml.txt"))
    assert [[dataset.items[p.item].key for p in h.purchases] for h in dataset.histories] == [["10", "30", "50", "20"], ["10"]]


def test_atomic_file_errors_name_the_line():
    from recommender.datasets_public import ConversionError, atomic_sequences

    with pytest.raises(ConversionError, match="lacks user_id"):
        atomic_sequences(["item_id:token\ttimestamp:float", "1\t2"], "x.inter")
    with pytest.raises(ConversionError, match=r"x\.inter:3: bad row"):
        atomic_sequences(["user_id:token\titem_id:token\ttimestamp:float", "1\t2\t5", "1\t3\tsoon"], "x.inter")


def test_synthetic_file_has_the_requested_size():
    from recommender.datasets_public import synthetic_sequences

    sequences = synthetic_sequences(users=50, items=40, interactions=400, seed=1)
    assert len(sequences) == 50
    assert sum(len(s) for s in sequences.values()) == 400
    assert min(len(s) for s in sequences.values()) >= 5
    assert sequences == synthetic_sequences(users=50, items=40, interactions=400, seed=1)
