"""The recommender's data: catalog items, customer histories and THE split rule.

Two sources give the same ``Dataset``: the store database (``load_store``:
purchases plus consultation text) and a one-line-per-user sequence file
(``load_sequence_file``: item ids only, as in the public benchmarks).
``leave_one_out`` is the only split rule; every model is fitted and scored
on the ``Split`` it returns.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

#: Synthetic clock of sequence files: the n-th item of a line is bought on day n.
SEQUENCE_EPOCH = datetime(2000, 1, 1)


@dataclass(frozen=True)
class Item:
    """One catalog product; ``index`` (dense, 0..n_items-1) is the id every model uses."""

    index: int
    key: str
    name_en: str
    name_zh: str
    category: str
    brand: str
    price: float
    repurchase_days: int | None


@dataclass(frozen=True)
class Purchase:
    """One item bought (one order line); ``item`` is the dense item index."""

    time: datetime
    item: int


@dataclass(frozen=True)
class Note:
    """One past consultation (customer-service chat or ticket)."""

    time: datetime
    text: str
    topic: str


@dataclass(frozen=True)
class History:
    """What one customer did, each tuple in time order."""

    customer: str
    language: str
    tier: str
    purchases: tuple[Purchase, ...]
    notes: tuple[Note, ...]

    def before(self, time: datetime) -> History:
        """This history cut to what happened strictly before ``time``."""
        purchase_times = [p.time for p in self.purchases]
        note_times = [n.time for n in self.notes]
        return History(
            customer=self.customer,
            language=self.language,
            tier=self.tier,
            purchases=self.purchases[: bisect_left(purchase_times, time)],
            notes=self.notes[: bisect_left(note_times, time)],
        )


@dataclass(frozen=True)
class Dataset:
    """A catalog and every customer's history; ``has_text`` is False for item-only data."""

    name: str
    items: tuple[Item, ...]
    histories: tuple[History, ...]
    has_text: bool

    @property
    def n_items(self) -> int:
        """Number of catalog items (the width of every score matrix)."""
        return len(self.items)


@dataclass(frozen=True)
class Example:
    """One prediction: ``history`` holds only what happened strictly before ``time``.

    ``conversation`` is what the customer says in the current conversation
    (empty in evaluation splits; training sets it for some outcome examples).
    """

    history: History
    target: int
    time: datetime
    conversation: str = ""


@dataclass(frozen=True)
class Split:
    """Train histories plus the validation and test predictions of one dataset."""

    train: tuple[History, ...]
    valid: tuple[Example, ...]
    test: tuple[Example, ...]


class SequenceFileError(ValueError):
    """A sequence file is malformed; the message names the file and the line."""


def leave_one_out(dataset: Dataset) -> Split:
    """Split by each customer's last two purchases (SASRec's ``data_partition``).

    For a customer with at least 3 purchases, the last purchase is the test
    target and the second-to-last the validation target. An example's history
    and the customer's train history hold only purchases and notes strictly
    before the target's time, so nothing at or after a target (including the
    other lines of the target's own order) is ever seen. Customers with fewer
    than 3 purchases give their whole history to train and no example.

    Args:
        dataset: The data to split.

    Returns:
        The split; ``valid`` and ``test`` follow ``dataset.histories`` order.
    """
    train: list[History] = []
    valid: list[Example] = []
    test: list[Example] = []
    for history in dataset.histories:
        if len(history.purchases) < 3:
            train.append(history)
            continue
        valid_target, test_target = history.purchases[-2], history.purchases[-1]
        valid_history = history.before(valid_target.time)
        train.append(valid_history)
        valid.append(Example(history=valid_history, target=valid_target.item, time=valid_target.time))
        test.append(
            Example(history=history.before(test_target.time), target=test_target.item, time=test_target.time)
        )
    return Split(train=tuple(train), valid=tuple(valid), test=tuple(test))


def load_sequence_file(path: str | Path) -> Dataset:
    """Read ``user item1 item2 ...`` lines (items in time order) into a ``Dataset``.

    Item indices follow first appearance in the file. Each line's n-th item
    is bought on day n after ``SEQUENCE_EPOCH``. Blank lines and lines
    starting with ``#`` are skipped. Items carry only their key; histories have
    language ``"en"``, tier ``""`` and no notes.

    Raises:
        FileNotFoundError: The file does not exist.
        SequenceFileError: A line has no items, a user appears twice, or the
            file holds no user; the message is ``path:line: reason``.
    """
    path = Path(path)
    index_of: dict[str, int] = {}
    histories: list[History] = []
    seen_users: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            user, raw_items = fields[0], fields[1:]
            if not raw_items:
                raise SequenceFileError(f"{path}:{line_number}: user {user!r} has no items")
            if user in seen_users:
                raise SequenceFileError(
                    f"{path}:{line_number}: user {user!r} already appeared on line {seen_users[user]}"
                )
            seen_users[user] = line_number
            purchases = tuple(
                Purchase(time=SEQUENCE_EPOCH + timedelta(days=day), item=index_of.setdefault(raw, len(index_of)))
                for day, raw in enumerate(raw_items)
            )
            histories.append(History(customer=user, language="en", tier="", purchases=purchases, notes=()))
    if not histories:
        raise SequenceFileError(f"{path}:1: no user lines in the file")
    items = tuple(
        Item(index=i, key=key, name_en=key, name_zh=key, category="", brand="", price=0.0, repurchase_days=None)
        for key, i in index_of.items()
    )
    return Dataset(name=path.stem, items=items, histories=tuple(histories), has_text=False)


def load_store(url: str) -> Dataset:
    """Read the store database at ``url`` (SQLite or PostgreSQL URL) into a ``Dataset``.

    Items are the catalog's products (services and coupons are not items),
    indexed by product id order. Purchases are order lines of orders that were
    not cancelled, timed by the order's ``placed_at`` and ordered by (time,
    line id). Notes are the customer's consultations. Only customers with at
    least one purchase get a history.
    """
    from store.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return read_store(session)
    finally:
        engine.dispose()


def read_store(session: Session, *, name: str = "store") -> Dataset:
    """``load_store`` on an open session (the caller owns the session)."""
    from store.models import Category, Consultation, Customer, Order, OrderLine, OrderStatus, Product

    products = session.execute(
        select(Product.id, Product.sku, Product.name_en, Product.name_zh, Category.code, Product.brand,
               Product.price, Product.repurchase_days)
        .join(Category, Product.category_id == Category.id)
        .order_by(Product.id)
    ).all()
    index_of = {row.id: i for i, row in enumerate(products)}
    items = tuple(
        Item(index=index_of[row.id], key=row.sku, name_en=row.name_en, name_zh=row.name_zh, category=row.code,
             brand=row.brand, price=float(row.price), repurchase_days=row.repurchase_days)
        for row in products
    )

    purchases: dict[int, list[Purchase]] = {}
    for row in session.execute(
        select(Order.customer_id, Order.placed_at, OrderLine.product_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status != OrderStatus.CANCELLED)
        .order_by(Order.customer_id, Order.placed_at, OrderLine.id)
    ):
        purchases.setdefault(row.customer_id, []).append(Purchase(time=row.placed_at, item=index_of[row.product_id]))

    notes: dict[int, list[Note]] = {}
    for row in session.execute(
        select(Consultation.customer_id, Consultation.created_at, Consultation.text, Consultation.topic)
        .order_by(Consultation.customer_id, Consultation.created_at, Consultation.id)
    ):
        notes.setdefault(row.customer_id, []).append(Note(time=row.created_at, text=row.text, topic=row.topic))

    histories = tuple(
        History(customer=row.external_id, language=row.language, tier=row.tier.value,
                purchases=tuple(purchases[row.id]), notes=tuple(notes.get(row.id, ())))
        for row in session.execute(select(Customer.id, Customer.external_id, Customer.language, Customer.tier)
                                   .order_by(Customer.id))
        if row.id in purchases
    )
    return Dataset(name=name, items=items, histories=histories, has_text=True)
