"""Rows of the demo catalog: categories, products, services, coupons, shipping methods."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from store.demo.catalog_data import CATEGORIES, SERIES, TYPES, UNITS, ZH_VALUES, TypeSpec
from store.demo.offers import add_coupons, add_services, add_shipping, money

# Products per type are this factor times ``TypeSpec.count`` at scale 1 (>= 600 in all).
PRODUCT_FACTOR = 1.2


@dataclass(frozen=True)
class DemoProduct:
    """What the history simulation needs to know about one product."""

    id: int
    type: TypeSpec
    category_id: int
    brand: str
    tier: int
    price: Decimal
    active: bool


@dataclass
class Catalog:
    """The catalog's table rows plus lookups for the simulation."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    products: list[DemoProduct] = field(default_factory=list)
    by_type: dict[str, list[DemoProduct]] = field(default_factory=dict)
    category_ids: dict[str, int] = field(default_factory=dict)
    service_ids_by_type: dict[str, list[tuple[int, Decimal]]] = field(default_factory=dict)
    make_good_coupon_ids: list[int] = field(default_factory=list)
    shipping: list[dict] = field(default_factory=list)


def _price(rng: random.Random, spec: TypeSpec, tier: int) -> Decimal:
    low, high = spec.price
    share = (tier + rng.random()) / 3
    raw = low + (high - low) * share
    # Shop prices end in 9 (or 9.9 for cheap items).
    return money(int(raw / 10) * 10 + 9 if raw >= 100 else int(raw) + 0.9)


def _variant(spec: TypeSpec, attrs: dict[str, str]) -> tuple[str, str]:
    if not spec.attrs:
        return "", ""
    key = next(iter(spec.attrs))
    value = attrs[key]
    if key in UNITS:
        en_unit, zh_unit = UNITS[key]
        return f"{value} {en_unit}".strip(), f"{value}{zh_unit}"
    return value, ZH_VALUES.get(value, value)


def _products(rng: random.Random, catalog: Catalog, scale: float) -> None:
    brands = {c.code: c.brands for c in CATEGORIES}
    rows = catalog.rows["products"] = []
    for spec in TYPES:
        # At least five, more than a category's brands: some brand has two of a type even in small builds.
        n = max(5, round(spec.count * PRODUCT_FACTOR * scale))
        # Same brand order for every type of a category, so small builds keep brands shared.
        type_brands = brands[spec.category]
        series = list(SERIES)
        rng.shuffle(series)
        for i in range(n):
            brand, tier = type_brands[i % len(type_brands)]
            attrs = {key: rng.choice(values) for key, values in spec.attrs.items()}
            variant_en, variant_zh = _variant(spec, attrs)
            model = series[i % len(series)] + (f" {i // len(series) + 2}" if i >= len(series) else "")
            product_id = len(rows) + 1
            price = _price(rng, spec, tier)
            large = spec.large
            stock = 0 if rng.random() < 0.08 else rng.randint(1, 40 if large else 500)
            active = rng.random() >= 0.04
            rows.append(
                {
                    "id": product_id,
                    "sku": f"{spec.key[:4].upper()}-{product_id:05d}",
                    "name_en": f"{brand} {spec.name_en} {model} {variant_en}".strip(),
                    "name_zh": f"{brand} {spec.name_zh} {model} {variant_zh}".strip(),
                    "description_en": f"{spec.name_en} by {brand}. "
                    + ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in attrs.items())
                    + ".",
                    "description_zh": f"{brand}出品的{spec.name_zh}"
                    + (f"，规格：{variant_zh}。" if variant_zh else "。"),
                    "category_id": catalog.category_ids[spec.category],
                    "brand": brand,
                    "price": price,
                    "stock": stock,
                    "attributes": attrs,
                    "repurchase_days": spec.repurchase_days,
                    "active": active,
                }
            )
            product = DemoProduct(product_id, spec, catalog.category_ids[spec.category], brand, tier, price, active)
            catalog.products.append(product)
            catalog.by_type.setdefault(spec.key, []).append(product)


def build_catalog(seed: int, scale: float, now: datetime) -> Catalog:
    """Every catalog row for ``seed`` and ``scale``; deterministic."""
    rng = random.Random(f"{seed}:catalog")
    catalog = Catalog()
    catalog.rows["categories"] = [
        {"id": i, "code": c.code, "name_en": c.name_en, "name_zh": c.name_zh} for i, c in enumerate(CATEGORIES, start=1)
    ]
    catalog.category_ids = {c.code: i for i, c in enumerate(CATEGORIES, start=1)}
    _products(rng, catalog, scale)
    add_services(catalog)
    add_coupons(rng, catalog, now)
    add_shipping(catalog)
    return catalog
