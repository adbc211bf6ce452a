"""Interactions CSV: who bought which SKU when; same customer and time make one order."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from store.importer.common import ImportRowError, checked_text, csv_rows, parse_int, parse_price, parse_timestamp
from store.importer.history import ImportedOrder, write_orders
from store.models import Product

REQUIRED = ("customer", "item", "timestamp")
OPTIONAL = ("quantity", "price")


def import_interactions(session: Session, path: str | Path, *, progress: bool = False) -> dict[str, int]:
    """Load an interactions CSV (customer, item, timestamp[, quantity][, price]) into ``session``.

    ``item`` is an existing product's SKU (an unknown one is an error naming
    it); ``timestamp`` is ISO 8601 or unix seconds; ``price`` defaults to the
    product's price. Customers are created by external id as needed.
    """
    products = {
        sku: (pid, price) for sku, pid, price in session.execute(select(Product.sku, Product.id, Product.price))
    }
    orders: dict[tuple[str, object], ImportedOrder] = {}
    for line, row in tqdm(csv_rows(path, REQUIRED, OPTIONAL), desc="interactions", unit="row", disable=not progress):
        customer = checked_text(path, line, "customer", row["customer"], limit=64)
        sku = checked_text(path, line, "item", row["item"], limit=64)
        if sku not in products:
            raise ImportRowError(
                path, line, "item", f"unknown item {sku!r}: no product has this SKU (import the catalog first)"
            )
        product_id, list_price = products[sku]
        when = parse_timestamp(path, line, "timestamp", row["timestamp"])
        quantity = parse_int(path, line, "quantity", row["quantity"], minimum=1) if row.get("quantity") else 1
        price = parse_price(path, line, "price", row["price"]) if row.get("price") else list_price
        order = orders.setdefault((customer, when), ImportedOrder(customer, when))
        order.add(product_id, quantity, price)
    ordered = sorted(orders.values(), key=lambda o: (o.placed_at, o.customer))
    return write_orders(session, ordered, seed=f"interactions:{path}", progress=progress)
