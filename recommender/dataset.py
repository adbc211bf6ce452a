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
class ServiceItem:
    """One catalog service (warranty, installation...); ``index`` (dense) is its token's index.

    ``items`` are the dense indices of the products it can be taken with (its scopes).
    """

    index: int
    key: str
    name_en: str
    name_zh: str
    kind: str
    items: frozenset[int]


@dataclass(frozen=True)
class Purchase:
    """One item bought (one order line); ``item`` is the dense item index."""

    time: datetime
    item: int


@dataclass(frozen=True)
class ServiceTake:
    """One service taken with an order: ``service`` is its dense index, ``item`` the product it was for."""

    time: datetime
    service: int
    item: int | None


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
    services: tuple[ServiceTake, ...] = ()

    def before(self, time: datetime) -> History:
        """This history cut to what happened strictly before ``time``."""
        purchase_times = [p.time for p in self.purchases]
        note_times = [n.time for n in self.notes]
        service_times = [s.time for s in self.services]
        return History(
            customer=self.customer,
            language=self.language,
            tier=self.tier,
            purchases=self.purchases[: bisect_left(purchase_times, time)],
            notes=self.notes[: bisect_left(note_times, time)],
            services=self.services[: bisect_left(service_times, time)],
        )

    def with_order_of(self, take: ServiceTake) -> History:
        """What the customer had when taking ``take``: everything before its order, plus that order's products.

        The order's other services are left out (they are taken at the same instant, not seen before).
        """
        before = self.before(take.time)
        same_order = tuple(p for p in self.purchases[len(before.purchases):] if p.time == take.time)
        return History(customer=self.customer, language=self.language, tier=self.tier,
                       purchases=before.purchases + same_order, notes=before.notes, services=before.services)


@dataclass(frozen=True)
class Dataset:
    """A catalog and every customer's history; ``has_text`` is False for item-only data.

    ``services`` is empty for data without services (a sequence file).
    """

    name: str
    items: tuple[Item, ...]
    histories: tuple[History, ...]
    has_text: bool
    services: tuple[ServiceItem, ...] = ()

    @property
    def n_services(self) -> int:
        """Number of catalog services (0 when the data has none)."""
        return len(self.services)

    @property
    def n_items(self) -> int:
        """Number of catalog items (the width of every score matrix)."""
        return len(self.items)


@dataclass(frozen=True)
class Example:
    """One prediction: ``history`` holds only what happened strictly before ``time``.

    ``conversation`` is what the customer says in the current conversation
    (empty in evaluation splits; training sets it for some outcome examples).
    ``kind`` says what ``target`` indexes: a product ("product") or a service ("service").
    """

    history: History
    target: int
    time: datetime
    conversation: str = ""
    kind: str = "product"


@dataclass(frozen=True)
class Split:
    """Train histories plus the validation and test predictions of one dataset."""

    train: tuple[History, ...]
    valid: tuple[Example, ...]
    test: tuple[Example, ...]


@dataclass(frozen=True)
class ServiceSplit:
    """Held-out service takes: ``target`` of each example is a dense service index.

    An example's history is ``History.with_order_of`` the take (the order's own
    products are known, its services are not) and its time is the take's time
    plus ``SERVICE_QUERY_DELAY``.
    """

    valid: tuple[Example, ...]
    test: tuple[Example, ...]


#: How long after its order a held-out service take is asked for (the customer has just ordered).
SERVICE_QUERY_DELAY = timedelta(minutes=1)


def service_split(dataset: Dataset) -> ServiceSplit:
    """The service takes ``leave_one_out`` holds out, on the same cut.

    ``leave_one_out`` trains on each customer's history before the validation
    target; the takes at or after that time are held out: those before the
    test target's time validate, the rest test. Customers it gives no example
    give no service example either.
    """
    valid: list[Example] = []
    test: list[Example] = []
    for history in dataset.histories:
        if len(history.purchases) < 3 or not history.services:
            continue
        valid_time, test_time = history.purchases[-2].time, history.purchases[-1].time
        for take in history.services:
            if take.time < valid_time:
                continue
            example = Example(history=history.with_order_of(take), target=take.service,
                              time=take.time + SERVICE_QUERY_DELAY, kind="service")
            (valid if take.time < test_time else test).append(example)
    return ServiceSplit(valid=tuple(valid), test=tuple(test))


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

    Items are the catalog's products, indexed by product id order; services
    (all of them, active or not) are indexed by service id order. Purchases
    are order lines of orders that were not cancelled, timed by the order's
    ``placed_at`` and ordered by (time, line id); service takes likewise.
    Notes are the customer's consultations. Only customers with at least one
    purchase get a history.
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
    from store.models import Category, Consultation, Customer, Order, OrderLine, OrderStatus, Product, ServicePurchase

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

    services, service_index_of = read_services(session, index_of)
    takes: dict[int, list[ServiceTake]] = {}
    for row in session.execute(
        select(Order.customer_id, Order.placed_at, ServicePurchase.service_id, ServicePurchase.product_id)
        .join(ServicePurchase, ServicePurchase.order_id == Order.id)
        .where(Order.status != OrderStatus.CANCELLED)
        .order_by(Order.customer_id, Order.placed_at, ServicePurchase.id)
    ):
        takes.setdefault(row.customer_id, []).append(
            ServiceTake(time=row.placed_at, service=service_index_of[row.service_id], item=index_of.get(row.product_id)))

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
                purchases=tuple(purchases[row.id]), notes=tuple(notes.get(row.id, ())),
                services=tuple(takes.get(row.id, ())))
        for row in session.execute(select(Customer.id, Customer.external_id, Customer.language, Customer.tier)
                                   .order_by(Customer.id))
        if row.id in purchases
    )
    return Dataset(name=name, items=items, histories=histories, has_text=True, services=services)


def read_services(session: Session, index_of: dict[int, int]) -> tuple[tuple[ServiceItem, ...], dict[int, int]]:
    """Every service (by id order) with the dense product indices it applies to, and service id -> dense index.

    ``index_of`` maps product ids to dense item indices.
    """
    from store.models import Product, Service, ServiceScope

    rows = session.execute(select(Service.id, Service.code, Service.name_en, Service.name_zh, Service.kind)
                           .order_by(Service.id)).all()
    service_index_of = {row.id: i for i, row in enumerate(rows)}
    category_of = dict(session.execute(select(Product.id, Product.category_id)).tuples().all())
    by_category: dict[int, set[int]] = {}
    for product_id, category_id in category_of.items():
        if product_id in index_of:
            by_category.setdefault(category_id, set()).add(index_of[product_id])
    applies: dict[int, set[int]] = {row.id: set() for row in rows}
    for scope in session.execute(select(ServiceScope.service_id, ServiceScope.category_id, ServiceScope.product_id)):
        if scope.category_id is not None:
            applies[scope.service_id] |= by_category.get(scope.category_id, set())
        if scope.product_id in index_of:
            applies[scope.service_id].add(index_of[scope.product_id])
    services = tuple(
        ServiceItem(index=service_index_of[row.id], key=row.code, name_en=row.name_en, name_zh=row.name_zh,
                    kind=row.kind, items=frozenset(applies[row.id]))
        for row in rows
    )
    return services, service_index_of
