"""Services, coupons and shipping methods of the demo shop."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from store.demo.catalog_data import CATEGORIES, TYPES
from store.models import Tier

if TYPE_CHECKING:  # catalog.py imports this module
    from store.demo.catalog import Catalog


def money(value: float) -> Decimal:
    """An amount with two decimals."""
    return Decimal(f"{value:.2f}")


# code, kind, name_en, name_zh, price, category codes, product type keys (product-scoped)
_SERVICES = (
    (
        "WARRANTY_2Y",
        "warranty",
        "2-year extended warranty",
        "两年延保",
        199,
        ("phones", "laptops", "cameras", "audio", "kitchen"),
        (),
    ),
    (
        "WARRANTY_3Y_LARGE",
        "warranty",
        "3-year warranty for large appliances",
        "大家电三年延保",
        399,
        ("large_appliances",),
        (),
    ),
    (
        "INSTALL_LARGE",
        "installation",
        "Delivery to room and installation",
        "送货入户及安装",
        149,
        ("large_appliances",),
        (),
    ),
    ("INSTALL_AC", "installation", "Air conditioner installation", "空调安装", 299, (), ("air_conditioner",)),
    ("HAUL_AWAY", "recycling", "Old appliance haul-away", "旧机回收", 59, ("large_appliances",), ()),
    (
        "GIFT_WRAP",
        "gift_wrapping",
        "Gift wrapping with card",
        "礼品包装（附贺卡）",
        19,
        ("toys", "skincare", "audio", "sports", "coffee", "books"),
        (),
    ),
    ("DEVICE_SETUP", "setup", "Device setup and data transfer", "新机设置与数据迁移", 99, ("phones", "laptops"), ()),
    ("PRINTER_SETUP", "setup", "Printer setup on your network", "打印机联网设置", 79, ("printers",), ()),
    ("AC_CLEANING", "cleaning", "Air conditioner deep cleaning", "空调深度清洗", 129, (), ("air_conditioner",)),
    (
        "COFFEE_DESCALING",
        "cleaning",
        "Espresso machine descaling service",
        "咖啡机除垢保养",
        89,
        (),
        ("espresso_machine",),
    ),
    ("SENSOR_CLEANING", "cleaning", "Camera sensor cleaning", "相机传感器清洁", 149, ("cameras",), ()),
    ("SCREEN_FITTING", "fitting", "Screen protector fitting", "贴膜服务", 29, (), ("screen_protector", "smartphone")),
)


def add_services(catalog: Catalog) -> None:
    """The twelve services and the categories or products each applies to."""
    services: list[dict] = []
    scopes: list[dict] = []
    catalog.rows["services"], catalog.rows["service_scopes"] = services, scopes
    for service_id, (code, kind, name_en, name_zh, price, categories, type_keys) in enumerate(_SERVICES, start=1):
        services.append(
            {
                "id": service_id,
                "code": code,
                "kind": kind,
                "name_en": name_en,
                "name_zh": name_zh,
                "description_en": f"{name_en}, booked with your order.",
                "description_zh": f"{name_zh}，随订单预约。",
                "price": money(price),
                "active": True,
            }
        )
        for code_ in categories:
            scopes.append(
                {
                    "id": len(scopes) + 1,
                    "service_id": service_id,
                    "category_id": catalog.category_ids[code_],
                    "product_id": None,
                }
            )
            for spec in TYPES:
                if spec.category == code_:
                    catalog.service_ids_by_type.setdefault(spec.key, []).append((service_id, money(price)))
        for key in type_keys:
            for product in catalog.by_type[key]:
                scopes.append(
                    {"id": len(scopes) + 1, "service_id": service_id, "category_id": None, "product_id": product.id}
                )
            catalog.service_ids_by_type.setdefault(key, []).append((service_id, money(price)))


def add_coupons(rng: random.Random, catalog: Catalog, now: datetime) -> None:
    """Thirty coupons: expired, current and future, scoped, tiered, a few make-goods."""
    rows = catalog.rows["coupons"] = []
    tiers = ("bronze", "bronze", "silver", "gold", "platinum")
    category_codes = [c.code for c in CATEGORIES]
    for i in range(30):
        kind = "percent" if i % 3 else "amount"
        value = rng.choice((5, 10, 15, 20)) if kind == "percent" else rng.choice((10, 20, 30, 50, 100))
        window = i % 5  # 0 expired, 1 future, else current
        start = now - timedelta(days=rng.randint(200, 400) if window == 0 else rng.randint(1, 60))
        if window == 1:
            start = now + timedelta(days=rng.randint(3, 40))
        end = start + timedelta(days=rng.randint(14, 120) if window == 0 else rng.randint(60, 200))
        if window == 0:
            end = min(end, now - timedelta(days=1))
        make_good = i in (3, 8, 17, 26)
        category_id = product_id = None
        scope = "" if make_good else ("category" if i % 4 == 1 else "product" if i % 7 == 2 else "")
        if scope == "category":
            category_id = catalog.category_ids[rng.choice(category_codes)]
        elif scope == "product":
            product_id = rng.choice([p for p in catalog.products if p.active]).id
        label = f"{value}% off" if kind == "percent" else f"{value} off"
        label_zh = f"{(100 - value) / 10:g}折" if kind == "percent" else f"立减{value}元"
        rows.append(
            {
                "id": i + 1,
                "code": f"{'SORRY' if make_good else 'SAVE'}{i + 1:02d}{rng.randint(100, 999)}",
                "name_en": ("Apology coupon: " if make_good else "Coupon: ") + label,
                "name_zh": ("致歉券：" if make_good else "优惠券：") + label_zh,
                "discount_type": kind,
                "discount_value": money(value),
                "min_spend": money(0 if make_good else rng.choice((0, 99, 199, 299, 499, 999))),
                "valid_from": start,
                "valid_to": end,
                "category_id": category_id,
                "product_id": product_id,
                "min_tier": Tier(tiers[0] if make_good else tiers[i % len(tiers)]),
                "per_customer_limit": 1 if i % 6 else 3,
                "stackable": i % 4 == 0,
                "make_good": make_good,
                "active": i != 29,
            }
        )
        if make_good:
            catalog.make_good_coupon_ids.append(i + 1)


def add_shipping(catalog: Catalog) -> None:
    """The shipping methods; large items go by freight."""
    catalog.shipping = catalog.rows["shipping_methods"] = [
        {
            "id": 1,
            "code": "standard",
            "name_en": "Standard delivery",
            "name_zh": "普通快递",
            "days_min": 2,
            "days_max": 4,
            "fee": money(10),
            "free_over": money(99),
        },
        {
            "id": 2,
            "code": "express",
            "name_en": "Express delivery",
            "name_zh": "次日达",
            "days_min": 1,
            "days_max": 2,
            "fee": money(20),
            "free_over": money(299),
        },
        {
            "id": 3,
            "code": "same_day",
            "name_en": "Same-day courier",
            "name_zh": "当日达",
            "days_min": 0,
            "days_max": 1,
            "fee": money(30),
            "free_over": None,
        },
        {
            "id": 4,
            "code": "freight",
            "name_en": "Large item freight",
            "name_zh": "大件物流",
            "days_min": 3,
            "days_max": 7,
            "fee": money(0),
            "free_over": None,
        },
    ]
