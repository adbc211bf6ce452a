"""Writing imported purchase histories: customers by external id, orders and lines in bulk."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from store.importer.common import order_numbers, reserve_ids
from store.models import Customer, LineStatus, Order, OrderLine, OrderStatus

_CHUNK = 5000


@dataclass
class ImportedOrder:
    """One order of an imported history: who, when, and (product id, quantity, unit price) lines."""

    customer: str
    placed_at: datetime
    lines: dict[int, list] = field(default_factory=dict)  # product id -> [quantity, unit price]

    def add(self, product_id: int, quantity: int, price: Decimal) -> None:
        """Add a line, or raise the quantity of the same product."""
        if product_id in self.lines:
            self.lines[product_id][0] += quantity
        else:
            self.lines[product_id] = [quantity, price]


def ensure_customers(session: Session, first_seen: dict[str, datetime]) -> tuple[dict[str, int], int]:
    """Customer ids by external id, creating missing customers (joined when first seen)."""
    ids = dict(session.execute(select(Customer.external_id, Customer.id)).tuples().all())
    missing = sorted(e for e in first_seen if e not in ids)
    new = reserve_ids(session, Customer, len(missing))
    if missing:
        session.execute(
            insert(Customer), [{"id": i, "external_id": e, "created_at": first_seen[e]} for i, e in zip(new, missing)]
        )
    ids.update(zip(missing, new))
    return ids, len(missing)


def write_orders(session: Session, orders: list[ImportedOrder], *, seed: str, progress: bool = False) -> dict[str, int]:
    """Insert ``orders`` as delivered orders (delivered when placed: the source has no shipping times).

    An order the customer already has at the same time is the same order
    (the grouping rule), so importing a file twice adds nothing the second time.
    """
    first_seen: dict[str, datetime] = {}
    for order in orders:
        if order.customer not in first_seen or order.placed_at < first_seen[order.customer]:
            first_seen[order.customer] = order.placed_at
    customer_ids, new_customers = ensure_customers(session, first_seen)
    placed = set(session.execute(select(Order.customer_id, Order.placed_at)).tuples().all())
    total = len(orders)
    orders = [o for o in orders if (customer_ids[o.customer], o.placed_at) not in placed]
    numbers = order_numbers(session, len(orders), random.Random(seed))
    all_ids = reserve_ids(session, Order, len(orders))
    lines = 0
    # Core inserts of the two big tables: the ORM's per-row bookkeeping doubled the time.
    with tqdm(total=len(orders), desc="orders", unit="order", disable=not progress) as bar:
        for offset in range(0, len(orders), _CHUNK):
            chunk = orders[offset : offset + _CHUNK]
            order_ids = all_ids[offset : offset + _CHUNK]
            order_rows = [
                {
                    "id": order_id,
                    "order_number": number,
                    "customer_id": customer_ids[o.customer],
                    "status": OrderStatus.DELIVERED,
                    "placed_at": o.placed_at,
                    "shipped_at": o.placed_at,
                    "delivered_at": o.placed_at,
                    "total": sum((Decimal(q) * p for q, p in o.lines.values()), Decimal("0")),
                }
                for o, order_id, number in zip(chunk, order_ids, numbers[offset : offset + _CHUNK])
            ]
            session.execute(insert(Order.__table__), order_rows)
            line_rows = [
                {
                    "order_id": order_id,
                    "product_id": product_id,
                    "quantity": q,
                    "unit_price": p,
                    "status": LineStatus.OK,
                }
                for order, order_id in zip(chunk, order_ids)
                for product_id, (q, p) in order.lines.items()
            ]
            session.execute(insert(OrderLine.__table__), line_rows)
            lines += len(line_rows)
            bar.update(len(chunk))
    return {
        "customers_created": new_customers,
        "orders_created": len(orders),
        "order_lines_created": lines,
        "orders_already_there": total - len(orders),
    }
