"""Everything the customers did, turned into table rows with ids."""

from __future__ import annotations

import random
from datetime import datetime

from store.demo.catalog import Catalog
from store.demo.consult import Consultations
from store.demo.orders import DAY, DemoOrder, ServiceTaker, add_line, baskets, demo_orders, ship
from store.demo.people import draw_service_habits, make_people, service_rng
from store.demo.shopping import Shopper

CUSTOMERS = 3000
# Demo customers C00001 and C00002 have a quiet month before their fixed orders.
_DEMO_QUIET = DAY * 40
_RETURN_REASONS = ("does not fit", "changed my mind", "arrived damaged", "not as described", "found it cheaper")


def simulate(
    seed: int, catalog: Catalog, scale: float, start: datetime, end: datetime, tick=lambda n: None
) -> dict[str, list[dict]]:
    """Customers, orders, lines, services, returns, consultations and coupon grants.

    Services (habits, takes, service statements) draw from each customer's
    ``service_rng``, everything else from one stream: services can change
    without changing what is bought. ``tick(n)`` is called after every ``n``
    customers (progress reporting).
    """
    rng = random.Random(f"{seed}:history")
    n_customers = max(20, round(CUSTOMERS * scale))
    customers, personas = make_people(rng, n_customers, start, end)
    orders: list[DemoOrder] = []
    talk = Consultations(rng, end)
    languages = {}
    for persona in personas:
        languages[persona.id] = persona.language
        demo = persona.id <= 2
        services = service_rng(seed, persona.id)
        persona.service_habits = draw_service_habits(services, persona.id)
        taker = ServiceTaker(services, persona.service_habits, catalog)
        shopper = Shopper(rng, catalog, persona, start, end - _DEMO_QUIET if demo else end)
        if persona.id != 3:
            shopper.act()
        talk.statements(persona.id, persona.language, shopper.statements)
        if persona.id != 3:
            talk.general(persona.id, persona.language, shopper.start, rng.choice((0, 0, 1, 1, 2, 3)))
        mine = baskets(rng, persona.id, shopper.purchases)
        for order in mine:
            for product in shopper.add_ons(order.placed_at):
                add_line(rng, order, product)
            ship(rng, order, catalog, end, taker=taker)
        if demo:
            mine += demo_orders(rng, catalog, persona.id, persona.language, end, taker)
        talk.service_statements(persona.id, persona.language, taker.statements(persona.language, shopper.start))
        orders += mine
        tick(1)
    orders.sort(key=lambda o: (o.placed_at, o.customer_id))
    numbers = rng.sample(range(10_000_000, 100_000_000), len(orders))
    for order_id, (order, number) in enumerate(zip(orders, numbers), start=1):
        order.id, order.number = order_id, f"SO{number:08d}"
        talk.about(order, languages[order.customer_id])
    rows = {"customers": customers}
    rows.update(_order_rows(rng, orders))
    rows.update(_consultation_rows(talk, catalog))
    return rows


def _order_rows(rng: random.Random, orders: list[DemoOrder]) -> dict[str, list[dict]]:
    order_rows, line_rows, service_rows, return_rows = [], [], [], []
    for order in orders:
        order_rows.append(
            {
                "id": order.id,
                "order_number": order.number,
                "customer_id": order.customer_id,
                "status": order.status,
                "placed_at": order.placed_at,
                "shipped_at": order.shipped_at,
                "delivered_at": order.delivered_at,
                "shipping_method_id": order.shipping_method,
                "carrier": order.carrier,
                "tracking_number": order.tracking_number,
                "total": order.total,
            }
        )
        for line in order.lines:
            line.id = len(line_rows) + 1
            line_rows.append(
                {
                    "id": line.id,
                    "order_id": order.id,
                    "product_id": line.product.id,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "status": line.status,
                }
            )
        for service_id, product_id, price in order.services:
            service_rows.append(
                {
                    "id": len(service_rows) + 1,
                    "order_id": order.id,
                    "service_id": service_id,
                    "product_id": product_id,
                    "price": price,
                }
            )
        for line, asked, state in order.returns:
            return_rows.append(
                {
                    "id": len(return_rows) + 1,
                    "order_line_id": line.id,
                    "customer_id": order.customer_id,
                    "reason": rng.choice(_RETURN_REASONS),
                    "status": state,
                    "created_at": asked,
                }
            )
    return {
        "orders": order_rows,
        "order_lines": line_rows,
        "service_purchases": service_rows,
        "return_requests": return_rows,
    }


def _consultation_rows(talk: Consultations, catalog: Catalog) -> dict[str, list[dict]]:
    items = sorted(talk.items, key=lambda c: (c.created_at, c.customer_id))
    rows, grants = [], []
    make_good = catalog.make_good_coupon_ids
    for consultation_id, item in enumerate(items, start=1):
        rows.append(
            {
                "id": consultation_id,
                "customer_id": item.customer_id,
                "created_at": item.created_at,
                "channel": item.channel,
                "language": item.language,
                "topic": item.topic,
                "text": item.text,
                "outcome": item.outcome,
                "order_id": item.order.id if item.order else None,
            }
        )
        if item.outcome == "make_good_coupon":
            grants.append(
                {
                    "id": len(grants) + 1,
                    "coupon_id": make_good[consultation_id % len(make_good)],
                    "customer_id": item.customer_id,
                    "granted_at": item.created_at,
                    "source": "service",
                    "idempotency_key": f"demo-consultation-{consultation_id}",
                }
            )
    return {"consultations": rows, "coupon_grants": grants}
