"""The common one-line-per-user sequence format: ``user item1 item2 ...`` in time order."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from store.importer.catalog import ensure_categories
from store.importer.common import ImportRowError, read_text, reserve_ids
from store.importer.history import ImportedOrder, write_orders
from store.models import Product

# Sequences carry no times: item i of n is placed (n - 1 - i) days before this.
SEQUENCE_END = datetime(2025, 1, 1, 12, 0)
IMPORTED_CATEGORY = "imported"


def import_sequences(session: Session, path: str | Path, *, progress: bool = False) -> dict[str, int]:
    """Load a sequence file: customers and placeholder products created as needed.

    New items become products in the "imported" category named by their id,
    price 0 and stock 1; an item id that is an existing SKU is that product,
    at its price. Each item is one order line in its own order, one
    day apart, the last on ``SEQUENCE_END``.
    """
    sequences: list[tuple[str, list[str]]] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(
        tqdm(read_text(path).splitlines(), desc="sequences", unit="user", disable=not progress), 1
    ):
        fields = line.split()
        if not fields:
            continue
        user, items = fields[0], fields[1:]
        if len(user) > 64:
            raise ImportRowError(path, number, "user", "longer than 64 characters")
        if user in first_line:
            raise ImportRowError(path, number, "user", f"user {user!r} already listed at line {first_line[user]}")
        if not items:
            raise ImportRowError(path, number, "items", f"user {user!r} has no items")
        for item in items:
            if len(item) > 64:
                raise ImportRowError(path, number, "items", f"item id longer than 64 characters: {item[:20]!r}...")
        first_line[user] = number
        sequences.append((user, items))
    known = {sku: (pid, price) for sku, pid, price in session.execute(select(Product.sku, Product.id, Product.price))}
    products = {sku: pid for sku, (pid, _) in known.items()}
    new_items = sorted({item for _, items in sequences for item in items} - products.keys())
    category_ids, new_categories = ensure_categories(session, {IMPORTED_CATEGORY} if new_items else set())
    ids = reserve_ids(session, Product, len(new_items))
    if new_items:
        session.execute(
            insert(Product),
            [
                {
                    "id": product_id,
                    "sku": item,
                    "name_en": item,
                    "name_zh": item,
                    "price": Decimal("0"),
                    "stock": 1,
                    "category_id": category_ids[IMPORTED_CATEGORY],
                    "attributes": {},
                }
                for product_id, item in zip(ids, new_items)
            ],
        )
    products.update(zip(new_items, ids))
    orders = []
    for user, items in sequences:
        for i, item in enumerate(items):
            order = ImportedOrder(user, SEQUENCE_END - timedelta(days=len(items) - 1 - i))
            order.add(products[item], 1, known[item][1] if item in known else Decimal("0"))
            orders.append(order)
    orders.sort(key=lambda o: (o.placed_at, o.customer))
    counts = write_orders(session, orders, seed=f"sequences:{path}", progress=progress)
    return {"categories_created": new_categories, "products_created": len(new_items), **counts}
