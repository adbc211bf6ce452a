"""Catalog CSV: products by SKU, categories created by name; existing SKUs are updated."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from store.importer.common import (
    ImportRowError,
    checked_text,
    csv_rows,
    parse_int,
    parse_json_object,
    parse_price,
)
from store.models import Category, Product

REQUIRED = ("sku", "category", "price")
OPTIONAL = ("name_en", "name_zh", "brand", "stock", "description_en", "description_zh", "attributes", "repurchase_days")


def category_code(name: str) -> str:
    """A stable code for a category name: its ASCII slug, or a hash for other scripts."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug[:64] if slug else "cat_" + hashlib.sha1(name.encode()).hexdigest()[:12]


def ensure_categories(session: Session, names: set[str]) -> tuple[dict[str, int], int]:
    """Ids of categories by name (matched on name or code), creating the missing ones."""
    lookup: dict[str, int] = {}
    for category in session.scalars(select(Category)):
        for key in (category.code, category.name_en, category.name_zh):
            lookup.setdefault(key, category.id)
    ids = {n: lookup.get(n) or lookup.get(category_code(n)) for n in names}
    # Names that differ only in punctuation or case share one new category.
    missing: dict[str, str] = {}
    for name in sorted(n for n, found in ids.items() if found is None):
        missing.setdefault(category_code(name), name)
    if missing:
        new = session.scalars(
            insert(Category).returning(Category.id, sort_by_parameter_order=True),
            [{"code": code, "name_en": name, "name_zh": name} for code, name in missing.items()],
        ).all()
        created = dict(zip(missing, new))
        ids = {n: i if i is not None else created[category_code(n)] for n, i in ids.items()}
    return ids, len(missing)


def _parse(path: str | Path, line: int, row: dict[str, str]) -> dict:
    sku = checked_text(path, line, "sku", row["sku"], limit=64)
    name_en, name_zh = row.get("name_en", ""), row.get("name_zh", "")
    if not name_en and not name_zh:
        raise ImportRowError(path, line, "name_en", "a product needs name_en or name_zh")
    for name, value in (("name_en", name_en), ("name_zh", name_zh)):
        if len(value) > 256:
            raise ImportRowError(path, line, name, "longer than 256 characters")
    repurchase = row.get("repurchase_days", "")
    return {
        "sku": sku,
        "name_en": name_en or name_zh,
        "name_zh": name_zh or name_en,
        "category": checked_text(path, line, "category", row["category"], limit=128),
        "brand": checked_text(path, line, "brand", row["brand"], limit=128) if row.get("brand") else "",
        "price": parse_price(path, line, "price", row["price"]),
        "stock": parse_int(path, line, "stock", row["stock"], minimum=0) if row.get("stock") else 0,
        "description_en": row.get("description_en", ""),
        "description_zh": row.get("description_zh", ""),
        "attributes": parse_json_object(path, line, "attributes", row.get("attributes", "")),
        "repurchase_days": parse_int(path, line, "repurchase_days", repurchase, minimum=1) if repurchase else None,
        "active": True,
    }


def import_catalog(session: Session, path: str | Path, *, progress: bool = False) -> dict[str, int]:
    """Load a catalog CSV into ``session``; raises ``ImportRowError`` on the first bad row.

    Columns: sku, category, price and name_en or name_zh are required; brand,
    stock, description_en, description_zh, attributes (a JSON object) and
    repurchase_days are optional. Returns counts of what was created and updated.
    """
    products: list[dict] = []
    first_line: dict[str, int] = {}
    for line, row in tqdm(csv_rows(path, REQUIRED, OPTIONAL), desc="catalog", unit="row", disable=not progress):
        product = _parse(path, line, row)
        if product["sku"] in first_line:
            raise ImportRowError(
                path, line, "sku", f"duplicate SKU {product['sku']!r}, first at line {first_line[product['sku']]}"
            )
        first_line[product["sku"]] = line
        products.append(product)
    category_ids, new_categories = ensure_categories(session, {p["category"] for p in products})
    existing = dict(session.execute(select(Product.sku, Product.id)).tuples().all())
    for product in products:
        product["category_id"] = category_ids[product.pop("category")]
    fresh = [p for p in products if p["sku"] not in existing]
    known = [{**p, "id": existing[p["sku"]]} for p in products if p["sku"] in existing]
    if fresh:
        session.execute(insert(Product), fresh)
    if known:
        session.execute(update(Product), known)
    return {"categories_created": new_categories, "products_created": len(fresh), "products_updated": len(known)}
