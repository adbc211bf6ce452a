"""Constrained top-k: the model's scores for one kind, with the store's business rules as masks.

Rules are applied INSIDE the ranking, before top-k, so a rule can never
leave the customer with fewer than ``k`` suggestions while ``k`` allowed
candidates exist, and nothing outside the catalog can be named: every
score vector is aligned with one catalog sequence (products in dense item
order, services and coupons in the order the caller passes them).

Rules come from ``store.rules``: ``is_sellable`` and ``consumable_due`` for
products, ``service_applies`` for services, ``coupon_eligibility`` for
coupons. Until the model has trained service and coupon tokens,
``service_scores`` and ``coupon_scores`` derive those kinds' scores from the
product distribution (see their docstrings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from store.models import Coupon, Customer, Product, Service
from store.rules import consumable_due, coupon_eligibility, is_sellable, service_applies

KINDS = ("product", "service", "coupon")


@dataclass(frozen=True)
class Ranked:
    """One recommendation: ``index`` into the kind's catalog sequence, and its score."""

    kind: str
    index: int
    score: float


def top_k(scores: np.ndarray, allowed: np.ndarray, k: int, *, kind: str = "product") -> list[Ranked]:
    """The ``min(k, allowed.sum())`` best allowed candidates, best first (ties: lower index first).

    NaN scores rank below every number but an allowed candidate is still
    returned before any disallowed one, which is never returned.

    Raises:
        ValueError: ``scores`` and ``allowed`` differ in shape, are not 1-D, or ``k`` < 0.
    """
    scores = np.asarray(scores, dtype=np.float64)
    allowed = np.asarray(allowed, dtype=bool)
    if scores.ndim != 1 or scores.shape != allowed.shape:
        raise ValueError(f"scores {scores.shape} and mask {allowed.shape} must be one and the same 1-D shape")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    candidates = np.flatnonzero(allowed)
    clean = np.nan_to_num(scores[candidates], nan=-np.inf)
    best = candidates[np.argsort(-clean, kind="stable")[:k]]
    return [Ranked(kind=kind, index=int(i), score=float(scores[i])) for i in best]


@dataclass(frozen=True)
class ProductTable:
    """The per-product facts the product rules read, as arrays over one catalog sequence.

    Built once per catalog read (the model server builds one per batch), so a
    request's mask costs a few vector operations instead of a pass of Python
    over every product; ``product_mask`` is the one place the rules combine.
    """

    products: Sequence[Product]
    sellable: np.ndarray  # bool: ``is_sellable``
    category_ids: np.ndarray  # int, -1 for none
    prices: np.ndarray  # float64

    @classmethod
    def of(cls, products: Sequence[Product]) -> ProductTable:
        """The table of ``products`` (in dense item order)."""
        return cls(
            products=products,
            sellable=np.array([is_sellable(p) for p in products], dtype=bool),
            category_ids=np.array([p.category_id if p.category_id is not None else -1 for p in products],
                                  dtype=np.int64),
            prices=np.array([float(p.price) for p in products], dtype=np.float64),
        )


def product_mask(
    products: Sequence[Product] | ProductTable,
    *,
    now: datetime,
    last_bought: Mapping[int, datetime] | None = None,
    category_id: int | None = None,
    max_price: Decimal | float | None = None,
) -> np.ndarray:
    """Which products may be recommended now.

    Args:
        products: The catalog in dense item order, or its ``ProductTable``.
        now: The time of the recommendation.
        last_bought: Dense index -> when the customer last bought it; such an
            item is allowed again only once it is a consumable that is due.
        category_id: Keep only this category.
        max_price: Keep only products at or below this price (the customer's budget).
    """
    table = products if isinstance(products, ProductTable) else ProductTable.of(products)
    allowed = table.sellable.copy()
    if category_id is not None:
        allowed &= table.category_ids == category_id
    if max_price is not None:
        # Both sides are parsed from the same decimal text, so a price equal to the budget compares equal.
        allowed &= table.prices <= float(Decimal(str(max_price)))
    for index, bought in (last_bought or {}).items():
        if allowed[index] and not consumable_due(table.products[index], bought, now):
            allowed[index] = False
    return allowed


def service_mask(services: Sequence[Service], owned_or_buying: Sequence[Product]) -> np.ndarray:
    """Services that apply to at least one product the customer owns or is buying (and are active)."""
    return np.array(
        [any(service_applies(service, product) for product in owned_or_buying) for service in services], dtype=bool
    )


def coupon_mask(
    coupons: Sequence[Coupon],
    customer: Customer | None,
    *,
    now: datetime,
    granted: Mapping[int, int] | None = None,
    cart_total: Decimal | None = None,
    allow_make_good: bool = False,
) -> np.ndarray:
    """Coupons ``customer`` is eligible for now; ``granted`` maps coupon id -> times already granted."""
    granted = granted or {}
    return np.array(
        [
            coupon_eligibility(coupon, customer, now=now, times_granted=granted.get(coupon.id, 0),
                               cart_total=cart_total, allow_make_good=allow_make_good) is None
            for coupon in coupons
        ],
        dtype=bool,
    )


def service_scores(services: Sequence[Service], products: Sequence[Product], product_logp: np.ndarray,
                   owned_or_buying: Sequence[Product]) -> np.ndarray:
    """A service's score: the best model log-probability among the products it applies to.

    Products the customer owns or is buying count with log-probability 0
    (certain), so a warranty for the washer in the cart outranks one for a
    washer the model merely guesses. ``-inf`` when it applies to nothing.
    """
    owned = {product.id for product in owned_or_buying}
    scores = np.full(len(services), -np.inf)
    for s, service in enumerate(services):
        for i, product in enumerate(products):
            if service_applies(service, product):
                scores[s] = max(scores[s], 0.0 if product.id in owned else float(product_logp[i]))
    return scores


def coupon_scores(coupons: Sequence[Coupon], products: Sequence[Product], product_logp: np.ndarray) -> np.ndarray:
    """A coupon's score: log of the model's probability mass on the products it can be used for.

    A store-wide coupon covers all the mass (score 0); a category or product
    coupon covers only what the customer is likely to buy there.
    """
    probs = np.exp(np.asarray(product_logp, dtype=np.float64))
    category = np.array([product.category_id for product in products])
    ids = np.array([product.id for product in products])
    scores = np.empty(len(coupons))
    for c, coupon in enumerate(coupons):
        covered = np.ones(len(products), dtype=bool)
        if coupon.category_id is not None:
            covered &= category == coupon.category_id
        if coupon.product_id is not None:
            covered &= ids == coupon.product_id
        mass = probs[covered].sum()
        scores[c] = np.log(mass) if mass > 0 else -np.inf
    return scores
