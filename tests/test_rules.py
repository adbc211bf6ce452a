"""Business rules on hand-made objects (no database) and the coupon query on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from store import rules
from store.db import transaction
from store.models import Category, Coupon, CouponGrant, Customer, Product, Service, ServiceScope, Tier

NOW = datetime(2026, 6, 1, 12)


def coupon(**overrides) -> Coupon:
    values = dict(
        id=1, code="C", name_en="c", name_zh="c", discount_type="amount", discount_value=Decimal("10"),
        min_spend=Decimal("100"), valid_from=NOW - timedelta(days=1), valid_to=NOW + timedelta(days=1),
        min_tier=Tier.SILVER, per_customer_limit=2, stackable=False, make_good=False, active=True,
    )
    values.update(overrides)
    return Coupon(**values)


SILVER = Customer(id=1, external_id="C1", tier=Tier.SILVER, created_at=NOW)


@pytest.mark.parametrize(
    ("overrides", "customer", "granted", "cart", "expected"),
    [
        ({}, SILVER, 0, None, None),
        ({"active": False}, SILVER, 0, None, rules.INACTIVE),
        ({"valid_from": NOW + timedelta(hours=1)}, SILVER, 0, None, rules.NOT_YET_VALID),
        ({"valid_to": NOW - timedelta(seconds=1)}, SILVER, 0, None, rules.EXPIRED),
        ({"min_tier": Tier.GOLD}, SILVER, 0, None, rules.TIER_TOO_LOW),
        ({}, SILVER, 2, None, rules.LIMIT_REACHED),
        ({}, SILVER, 1, Decimal("99.99"), rules.BELOW_MIN_SPEND),
        ({}, SILVER, 1, Decimal("100"), None),
        ({}, None, 0, None, rules.ANONYMOUS),
        ({"make_good": True}, SILVER, 0, None, rules.MAKE_GOOD_ONLY),
    ],
)
def test_coupon_eligibility(overrides, customer, granted, cart, expected):
    assert rules.coupon_eligibility(coupon(**overrides), customer, now=NOW, times_granted=granted, cart_total=cart) == expected


def test_make_good_allowed_when_caller_says_so():
    assert rules.coupon_eligibility(coupon(make_good=True), SILVER, now=NOW, times_granted=0, allow_make_good=True) is None


def test_service_scope_by_category_or_product():
    phone = Product(id=7, category_id=3, active=True, stock=1)
    laptop = Product(id=8, category_id=4, active=True, stock=1)
    by_category = Service(active=True, scopes=[ServiceScope(category_id=3)])
    by_product = Service(active=True, scopes=[ServiceScope(product_id=8)])
    assert rules.service_applies(by_category, phone) and not rules.service_applies(by_category, laptop)
    assert rules.service_applies(by_product, laptop) and not rules.service_applies(by_product, phone)
    assert not rules.service_applies(Service(active=False, scopes=[ServiceScope(category_id=3)]), phone)
    assert rules.services_for_products([by_category, by_product], [laptop]) == [by_product]


def test_sellable_and_consumable_due():
    assert rules.is_sellable(Product(active=True, stock=1))
    assert not rules.is_sellable(Product(active=True, stock=0))
    assert not rules.is_sellable(Product(active=False, stock=5))
    beans = Product(repurchase_days=30)
    kettle = Product(repurchase_days=None)
    assert rules.consumable_due(beans, None, NOW)
    assert not rules.consumable_due(beans, NOW - timedelta(days=20), NOW)
    assert rules.consumable_due(beans, NOW - timedelta(days=25), NOW)  # 0.8 of the cycle has passed
    assert not rules.consumable_due(kettle, NOW - timedelta(days=400), NOW)


def test_eligible_coupons_counts_grants(session_factory):
    with transaction(session_factory) as session:
        session.add(Category(id=1, code="x", name_en="x", name_zh="x"))
        session.add(Customer(id=1, external_id="C1", tier=Tier.SILVER, created_at=NOW))
        session.add_all([
            coupon(id=1, code="A", per_customer_limit=1),
            coupon(id=2, code="B", per_customer_limit=2),
            coupon(id=3, code="GOLD", min_tier=Tier.GOLD),
        ])
        session.flush()
        session.add(CouponGrant(coupon_id=1, customer_id=1, granted_at=NOW, idempotency_key="k1"))
        session.add(CouponGrant(coupon_id=2, customer_id=1, granted_at=NOW, idempotency_key="k2"))
    with session_factory() as session:
        customer = session.get(Customer, 1)
        assert [c.code for c in rules.eligible_coupons(session, customer, NOW)] == ["B"]
        assert rules.eligible_coupons(session, None, NOW) == []
