"""Purchases become orders: baskets, shipping, statuses, returns and services.

Times are consistent with the end of the history (``end``): orders placed in
the last days are still paid or shipped, older ones delivered, some returned
or cancelled; ``shipped_at`` and ``delivered_at`` are set exactly when the
status says the parcel left or arrived.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from store.demo.catalog import Catalog, DemoProduct
from store.demo.shopping import DAY, Purchase
from store.models import LineStatus, OrderStatus

# The demo's return window; matches the default ``return_window_days``.
RETURN_WINDOW = timedelta(days=30)
CARRIERS = (("SF Express", "SF"), ("JD Logistics", "JD"), ("ZTO Express", "ZT"), ("YTO Express", "YT"))
_SALE = Decimal("0.9")
_CENT = Decimal("0.01")
# A due consumable rides along with a basket placed up to this long before.
_JOIN_WINDOW = timedelta(days=3)


@dataclass
class Line:
    product: DemoProduct
    quantity: int
    unit_price: Decimal
    status: LineStatus = LineStatus.OK
    id: int = 0


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
        add_line(rng, current, purchase.product, purchase.quantity)
    return orders


def add_line(rng: random.Random, order: DemoOrder, product: DemoProduct, quantity: int = 1) -> None:
    """Put ``product`` in ``order``, or raise its quantity if it is there."""
    for line in order.lines:
        if line.product.id == product.id:
            line.quantity += quantity
            return
    price = (product.price * _SALE).quantize(_CENT) if rng.random() < 0.1 else product.price
    order.lines.append(Line(product, quantity, price))


def ship(
    rng: random.Random,
    order: DemoOrder,
    catalog: Catalog,
    end: datetime,
    *,
    fixed: OrderStatus | None = None,
    method_id: int | None = None,
) -> None:
    """Choose shipping and settle status, times, returns, services and total."""
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
    _services(rng, order, catalog)
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


def _services(rng: random.Random, order: DemoOrder, catalog: Catalog) -> None:
    for line in order.lines:
        for service_id, price in catalog.service_ids_by_type.get(line.product.type.key, ()):
            if rng.random() < (0.35 if line.product.type.large else 0.1):
                order.services.append((service_id, line.product.id, price))


def demo_orders(
    rng: random.Random, catalog: Catalog, customer_id: int, language: str, end: datetime
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
    ship(rng, large, catalog, end, fixed=OrderStatus.DELIVERED)
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
    ship(rng, shipped, catalog, end, fixed=OrderStatus.SHIPPED, method_id=1)
    shipped.shipped_at = shipped.placed_at + DAY * 0.6
    return [large, shipped]
