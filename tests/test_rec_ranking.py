"""Constrained top-k: no recommendation breaks a business rule or leaves the catalog; exactly min(k, allowed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.ranking import (ProductTable, coupon_mask, coupon_scores, product_mask, service_mask, service_scores,
                                 top_k)
from store.models import Coupon, Customer, Product, Service, ServiceScope, Tier
from store.rules import consumable_due, coupon_eligibility, is_sellable, service_applies

NOW = datetime(2026, 6, 1)


def product(pid: int, *, category: int, price: int, stock: int, active: bool, repurchase: int | None) -> Product:
    return Product(id=pid, sku=f"P{pid}", name_en=f"p{pid}", name_zh=f"p{pid}", category_id=category,
                   price=Decimal(price), stock=stock, active=active, repurchase_days=repurchase)


products_st = st.lists(
    st.builds(lambda c, price, stock, active, rep: dict(category=c, price=price, stock=stock, active=active, repurchase=rep),
              st.integers(1, 3), st.integers(1, 500), st.integers(0, 3), st.booleans(), st.sampled_from([None, 10, 60])),
    min_size=1, max_size=25,
).map(lambda rows: [product(i + 1, **row) for i, row in enumerate(rows)])

coupons_st = st.lists(
    st.builds(lambda active, start, length, tier, limit, make_good, min_spend, category: Coupon(
        code="C", name_en="c", name_zh="c", discount_type="amount", discount_value=Decimal(5), active=active,
        valid_from=NOW + timedelta(days=start), valid_to=NOW + timedelta(days=start + length), min_tier=tier,
        per_customer_limit=limit, make_good=make_good, min_spend=Decimal(min_spend), category_id=category),
        st.booleans(), st.integers(-30, 5), st.integers(0, 40), st.sampled_from(list(Tier)), st.integers(1, 2),
        st.booleans(), st.integers(0, 300), st.sampled_from([None, 1, 2, 3])),
    min_size=1, max_size=15,
).map(lambda coupons: [setattr(c, "id", i + 1) or c for i, c in enumerate(coupons)])


@settings(max_examples=80, deadline=None)
@given(products=products_st, data=st.data())
def test_products_never_break_a_rule_and_fill_k(products, data):
    n = len(products)
    scores = np.array(data.draw(st.lists(st.floats(-50, 50) | st.just(float("nan")), min_size=n, max_size=n)))
    last_bought = {i: NOW - timedelta(days=data.draw(st.integers(0, 90)))
                   for i in data.draw(st.sets(st.integers(0, n - 1)))}
    category = data.draw(st.sampled_from([None, 1, 2]))
    max_price = data.draw(st.sampled_from([None, 100, 400]))
    k = data.draw(st.integers(0, n + 2))
    allowed = product_mask(products, now=NOW, last_bought=last_bought, category_id=category, max_price=max_price)
    ranked = top_k(scores, allowed, k)
    assert len(ranked) == min(k, int(allowed.sum()))
    assert len({r.index for r in ranked}) == len(ranked)
    for r in ranked:
        p = products[r.index]  # an IndexError here would be an item outside the catalog
        assert is_sellable(p)
        assert r.index not in last_bought or consumable_due(p, last_bought[r.index], NOW)
        assert category is None or p.category_id == category
        assert max_price is None or p.price <= max_price
    finite = [r.score for r in ranked if not np.isnan(r.score)]
    assert finite == sorted(finite, reverse=True)
    assert all(not np.isnan(r.score) for r in ranked[: len(finite)])  # NaN scores come last


@settings(max_examples=60, deadline=None)
@given(products=products_st, data=st.data())
def test_the_product_table_applies_exactly_the_rules(products, data):
    cents = data.draw(st.lists(st.integers(1, 50000), min_size=len(products), max_size=len(products)))
    for product_row, cent in zip(products, cents):
        product_row.price = Decimal(cent) / 100
    n = len(products)
    last_bought = {i: NOW - timedelta(days=data.draw(st.integers(0, 90)))
                   for i in data.draw(st.sets(st.integers(0, n - 1), max_size=n))}
    category = data.draw(st.sampled_from([None, 1, 2]))
    # A budget equal to some product's price must keep that product.
    max_price = data.draw(st.sampled_from([None, 0.5, float(products[0].price), products[-1].price]))
    expected = [
        is_sellable(p) and (i not in last_bought or consumable_due(p, last_bought[i], NOW))
        and (category is None or p.category_id == category)
        and (max_price is None or p.price <= Decimal(str(max_price)))
        for i, p in enumerate(products)
    ]
    table = ProductTable.of(products)
    for source in (products, table):
        mask = product_mask(source, now=NOW, last_bought=last_bought, category_id=category, max_price=max_price)
        assert mask.tolist() == expected
    assert table.sellable.tolist() == [is_sellable(p) for p in products]  # the table is not changed by a mask


@settings(max_examples=80, deadline=None)
@given(coupons=coupons_st, tier=st.sampled_from(list(Tier)), signed_in=st.booleans(), data=st.data())
def test_coupons_only_when_eligible(coupons, tier, signed_in, data):
    customer = Customer(id=1, external_id="x", tier=tier) if signed_in else None
    granted = {c.id: data.draw(st.integers(0, 2)) for c in coupons}
    cart = data.draw(st.sampled_from([None, Decimal(50), Decimal(250)]))
    products = [product(i, category=1 + i % 3, price=10, stock=1, active=True, repurchase=None) for i in range(1, 7)]
    logp = np.log(np.full(len(products), 1 / len(products)))
    scores = coupon_scores(coupons, products, logp)
    k = data.draw(st.integers(0, 6))
    allowed = coupon_mask(coupons, customer, now=NOW, granted=granted, cart_total=cart)
    ranked = top_k(scores, allowed, k, kind="coupon")
    assert len(ranked) == min(k, int(allowed.sum()))
    for r in ranked:
        coupon = coupons[r.index]
        assert coupon_eligibility(coupon, customer, now=NOW, times_granted=granted[coupon.id], cart_total=cart) is None
    if customer is None:
        assert ranked == []


def test_services_apply_to_what_the_customer_owns():
    washer = product(1, category=1, price=300, stock=2, active=True, repurchase=None)
    phone = product(2, category=2, price=900, stock=2, active=True, repurchase=None)
    install = Service(id=1, code="install", kind="install", name_en="i", name_zh="i", price=Decimal(20), active=True,
                      scopes=[ServiceScope(category_id=1)])
    case = Service(id=2, code="case", kind="acc", name_en="c", name_zh="c", price=Decimal(5), active=True,
                   scopes=[ServiceScope(product_id=2)])
    retired = Service(id=3, code="old", kind="acc", name_en="o", name_zh="o", price=Decimal(5), active=False,
                      scopes=[ServiceScope(category_id=1)])
    services = [install, case, retired]
    allowed = service_mask(services, [washer])
    assert allowed.tolist() == [True, False, False]
    scores = service_scores(services, [washer, phone], np.log(np.array([0.1, 0.9])), [washer])
    assert scores[0] == 0.0 and scores[1] == pytest.approx(np.log(0.9))
    ranked = top_k(scores, allowed, 3, kind="service")
    assert [r.index for r in ranked] == [0]
    assert all(service_applies(services[r.index], washer) for r in ranked)


def test_top_k_rejects_misaligned_scores():
    with pytest.raises(ValueError):
        top_k(np.zeros(3), np.ones(4, dtype=bool), 2)
    with pytest.raises(ValueError):
        top_k(np.zeros(3), np.ones(3, dtype=bool), 2, kind="voucher")
