"""Purchases become orders: baskets, shipping, statuses, returns and services.

Times are consistent with the end of the history (``end``): orders placed in
the last days are still paid or shipped, older ones delivered, some returned
or cancelled; ``shipped_at`` and ``delivered_at`` are set exactly when the
status says the parcel left or arrived.

Services follow the customer's hidden service habits (``people.SERVICE_HABITS``)
and whether a line is a present; a ``ServiceTaker`` decides them with the
customer's own random source (``people.service_rng``), so they never change
what is bought.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from store.demo.catalog import Catalog, DemoProduct
from store.demo.people import HABIT_OF_KIND
from store.demo.service_needs import SERVICE_NEED_OF_CODE, ServiceNeed, ServiceStatement, service_statement
from store.demo.shopping import DAY, Purchase
from store.models import LineStatus, OrderStatus

# The demo's return window; matches the default ``return_window_days``.
RETURN_WINDOW = timedelta(days=30)
CARRIERS = (("SF Express", "SF"), ("JD Logistics", "JD"), ("ZTO Express", "ZT"), ("YTO Express", "YT"))
_SALE = Decimal("0.9")
_CENT = Decimal("0.01")
# A due consumable rides along with a basket placed up to this long before.
_JOIN_WINDOW = timedelta(days=3)
# Chance that a line takes a service that applies to it: the customer has the habit behind it
# (for gift wrapping: and the line is no consumable) ...
HABIT_TAKE = 0.55
# ... gift wrapping on a present (a line bought for someone else), without and with the habit ...
PRESENT_WRAP, PRESENT_WRAP_HABIT = 0.5, 0.85
# ... otherwise by chance: small item, large item.
CHANCE_TAKE = (0.03, 0.10)
# Chance of a service statement before an order with a habit-driven service: the first time
# the customer's need behind it comes up, and later times.
STATE_FIRST, STATE_LATER = 0.4, 0.08


@dataclass
class Line:
    product: DemoProduct
    quantity: int
    unit_price: Decimal
    status: LineStatus = LineStatus.OK
    id: int = 0
    gift: bool = False  # bought for someone else


@dataclass
class DemoOrder:
    """An order before it gets its id and number."""

    customer_id: int
    placed_at: datetime
    lines: list[Line] = field(default_factory=list)
    status: OrderStatus = OrderStatus.PAID
    shipping_method: int = 1
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    late: bool = False
    carrier: str = ""
    tracking_number: str = ""
    services: list[tuple[int, int, Decimal]] = field(default_factory=list)  # service id, product id, price
    total: Decimal = Decimal("0")
    returns: list[tuple[Line, datetime, str]] = field(default_factory=list)
    id: int = 0
    number: str = ""

    @property
    def large(self) -> bool:
        return any(line.product.type.large for line in self.lines)


def baskets(rng: random.Random, customer_id: int, purchases: list[Purchase]) -> list[DemoOrder]:
    """Group one customer's purchases into orders: joinable ones ride along for a few days."""
    orders: list[DemoOrder] = []
    for purchase in sorted(purchases, key=lambda p: (p.time, p.joinable)):
        current = orders[-1] if orders else None
        if current is None or not purchase.joinable or purchase.time - current.placed_at >= _JOIN_WINDOW:
            current = DemoOrder(customer_id, purchase.time.replace(microsecond=0))
            orders.append(current)
        add_line(rng, current, purchase.product, purchase.quantity, gift=purchase.gift)
    return orders


def add_line(
    rng: random.Random, order: DemoOrder, product: DemoProduct, quantity: int = 1, *, gift: bool = False
) -> None:
    """Put ``product`` in ``order``, or raise its quantity if it is there."""
    for line in order.lines:
        if line.product.id == product.id:
            line.quantity += quantity
            line.gift = line.gift or gift
            return
    price = (product.price * _SALE).quantize(_CENT) if rng.random() < 0.1 else product.price
    order.lines.append(Line(product, quantity, price, gift=gift))


@dataclass
class _Take:
    order: DemoOrder
    code: str
    habit: bool  # taken by habit: the customer has the habit behind the service, and it applies to the line


class ServiceTaker:
    """Which services one customer takes with their lines, and what they say about them beforehand.

    Everything is drawn from ``rng``, the customer's own ``people.service_rng``.
    """

    def __init__(self, rng: random.Random, habits: tuple[str, ...], catalog: Catalog) -> None:
        self.rng, self.habits = rng, habits
        self.services = {s["id"]: (s["code"], s["kind"]) for s in catalog.rows["services"]}
        self.takes: list[_Take] = []

    def take(self, order: DemoOrder, line: Line, service_id: int) -> bool:
        """Whether ``line`` of ``order`` takes the service ``service_id`` (which applies to it)."""
        code, kind = self.services[service_id]
        # Nobody wraps their monthly refill: a habit of wrapping is about things that last.
        habit = HABIT_OF_KIND[kind] in self.habits and not (
            kind == "gift_wrapping" and line.product.type.repurchase_days is not None
        )
        if kind == "gift_wrapping" and line.gift:
            chance = PRESENT_WRAP_HABIT if habit else PRESENT_WRAP
        else:
            chance = HABIT_TAKE if habit else CHANCE_TAKE[line.product.type.large]
        if self.rng.random() >= chance:
            return False
        self.takes.append(_Take(order, code, habit))
        return True

    def statements(self, language: str, start: datetime) -> list[ServiceStatement]:
        """Service needs stated 1-10 days before some orders with a habit-driven service.

        The first time a need comes up, often (``STATE_FIRST``); later, now and
        then (``STATE_LATER``); at most one statement per order, none before ``start``.
        """
        rng = self.rng
        orders: list[DemoOrder] = []
        needs: dict[int, list[ServiceNeed]] = {}
        for take in self.takes:
            if not take.habit:
                continue
            if id(take.order) not in needs:
                orders.append(take.order)
                needs[id(take.order)] = []
            need = SERVICE_NEED_OF_CODE[take.code]
            if need not in needs[id(take.order)]:
                needs[id(take.order)].append(need)
        seen: set[str] = set()
        found: list[ServiceStatement] = []
        for order in sorted(orders, key=lambda o: o.placed_at):
            stated = False
            for need in needs[id(order)]:
                first = need.key not in seen
                seen.add(need.key)
                if stated or rng.random() >= (STATE_FIRST if first else STATE_LATER):
                    continue
                stated = True
                when = (order.placed_at - DAY * rng.uniform(1, 10)).replace(microsecond=0)
                text = service_statement(rng, need, language)
                channel = rng.choices(("chat", "email", "phone"), (80, 15, 5))[0]
                if when >= start:
                    found.append(ServiceStatement(when, text, need, channel))
        return found


def ship(
    rng: random.Random,
    order: DemoOrder,
    catalog: Catalog,
    end: datetime,
    *,
    fixed: OrderStatus | None = None,
    method_id: int | None = None,
    taker: ServiceTaker | None = None,
) -> None:
    """Choose shipping and settle status, times, returns, services (``taker``'s call; none without) and total."""
    order.shipping_method = method_id or (4 if order.large else rng.choices((1, 2, 3), (60, 30, 10))[0])
    method = catalog.shipping[order.shipping_method - 1]
    leaves = order.placed_at + DAY * (rng.uniform(0.05, 0.2) if order.shipping_method == 3 else rng.uniform(0.1, 1.5))
    transit = max(0.15, rng.uniform(method["days_min"], method["days_max"]))
    order.late = fixed is None and rng.random() < 0.05
    if order.late:
        transit = method["days_max"] + rng.uniform(2, 6)
    arrives = leaves + DAY * transit
    if fixed is None and rng.random() < 0.02:
        order.status = OrderStatus.CANCELLED
    elif fixed is OrderStatus.SHIPPED or (fixed is None and arrives > end >= leaves):
        order.status, order.shipped_at = OrderStatus.SHIPPED, leaves
    elif fixed is None and leaves > end:
        order.status = OrderStatus.PAID
    else:
        order.status, order.shipped_at, order.delivered_at = OrderStatus.DELIVERED, leaves, arrives
    if order.shipped_at:
        order.shipped_at = order.shipped_at.replace(microsecond=0)
        carrier, prefix = CARRIERS[0] if order.large else rng.choice(CARRIERS)
        order.carrier, order.tracking_number = carrier, f"{prefix}{rng.randrange(10**11, 10**12)}"
    if order.delivered_at:
        order.delivered_at = order.delivered_at.replace(microsecond=0)
        if fixed is None:
            _returns(rng, order, end)
    _services(rng, order, catalog, taker)
    subtotal = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
    subtotal += sum((price for _, _, price in order.services), Decimal("0"))
    free = method["free_over"] is not None and subtotal >= method["free_over"]
    order.total = subtotal + (Decimal("0") if free else method["fee"])


def _returns(rng: random.Random, order: DemoOrder, end: datetime) -> None:
    assert order.delivered_at is not None
    room = min(RETURN_WINDOW, end - order.delivered_at)
    roll = rng.random()
    if roll < 0.03:
        order.status = OrderStatus.RETURNED
        returned = order.lines
    elif roll < 0.07 and len(order.lines) > 1:
        returned = [rng.choice(order.lines)]
    elif roll < 0.12 and end - order.delivered_at < RETURN_WINDOW:
        line = rng.choice(order.lines)
        line.status = LineStatus.RETURN_REQUESTED
        order.returns.append((line, order.delivered_at + room * rng.random(), "requested"))
        return
    else:
        return
    asked = order.delivered_at + room * rng.uniform(0.05, 0.7)
    for line in returned:
        line.status = LineStatus.RETURNED
        order.returns.append((line, asked, "refunded"))


def _services(rng: random.Random, order: DemoOrder, catalog: Catalog, taker: ServiceTaker | None) -> None:
    for line in order.lines:
        for service_id, price in catalog.service_ids_by_type.get(line.product.type.key, ()):
            # Services were once drawn from ``rng``; the draw stays so that everything after it
            # (shipping, returns, consultations of later orders) is as it was.
            rng.random()
            if taker is not None and taker.take(order, line, service_id):
                order.services.append((service_id, line.product.id, price))


def demo_orders(
    rng: random.Random,
    catalog: Catalog,
    customer_id: int,
    language: str,
    end: datetime,
    taker: ServiceTaker | None = None,
) -> list[DemoOrder]:
    """The fixed orders of demo customers C00001 and C00002 (see ``store.demo``).

    A large appliance delivered ten days before the end (inside the return
    window, with installation) and an order placed two days before the end,
    now shipped.
    """
    washer = next(p for p in catalog.by_type["washer"] if p.active)
    recent = next(p for p in catalog.by_type["headphones" if language == "en" else "face_cream"] if p.active)
    large = DemoOrder(
        customer_id,
        (end - DAY * 14).replace(hour=10, minute=0, second=0, microsecond=0),
        [Line(washer, 1, washer.price)],
    )
    ship(rng, large, catalog, end, fixed=OrderStatus.DELIVERED, taker=taker)
    large.shipped_at = large.placed_at + DAY
    large.delivered_at = large.placed_at + DAY * 4
    if not any(service_id == 3 for service_id, _, _ in large.services):
        large.services.append((3, washer.id, Decimal("149.00")))
        large.total += Decimal("149.00")
    shipped = DemoOrder(
        customer_id,
        (end - DAY * 2).replace(hour=20, minute=15, second=0, microsecond=0),
        [Line(recent, 1, recent.price)],
    )
    ship(rng, shipped, catalog, end, fixed=OrderStatus.SHIPPED, method_id=1, taker=taker)
    shipped.shipped_at = shipped.placed_at + DAY * 0.6
    return [large, shipped]
