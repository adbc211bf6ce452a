"""The store's business rules, shared by the actions and the recommender.

Pure functions over model objects (no session) decide one thing each;
``eligible_coupons`` and ``granted_counts`` are the query helpers. A rule
that fails returns a reason code rather than raising, because callers rank
or filter many candidates at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from store.models import Coupon, CouponGrant, Customer, Product, Service, Tier

# Reason codes returned by ``coupon_eligibility``.
INACTIVE = "inactive"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
TIER_TOO_LOW = "tier_too_low"
LIMIT_REACHED = "limit_reached"
BELOW_MIN_SPEND = "below_min_spend"
ANONYMOUS = "anonymous"
MAKE_GOOD_ONLY = "make_good_only"


def is_sellable(product: Product) -> bool:
    """A product can be recommended only while it is active and in stock."""
    return bool(product.active) and product.stock > 0


def coupon_eligibility(
    coupon: Coupon,
    customer: Customer | None,
    *,
    now: datetime,
    times_granted: int,
    cart_total: Decimal | None = None,
    allow_make_good: bool = False,
) -> str | None:
    """Why ``customer`` may not get ``coupon`` now, or ``None`` when they may.

    Rules: the coupon is active and inside its validity window; the customer
    is signed in, at least of ``coupon.min_tier``, and has been granted it
    fewer than ``per_customer_limit`` times; a known cart total reaches
    ``min_spend``; make-good coupons only where the caller allows them (a
    resolved complaint).
    """
    if not coupon.active:
        return INACTIVE
    if now < coupon.valid_from:
        return NOT_YET_VALID
    if now > coupon.valid_to:
        return EXPIRED
    if coupon.make_good and not allow_make_good:
        return MAKE_GOOD_ONLY
    if customer is None:
        return ANONYMOUS
    if Tier(customer.tier).rank < Tier(coupon.min_tier).rank:
        return TIER_TOO_LOW
    if times_granted >= coupon.per_customer_limit:
        return LIMIT_REACHED
    if cart_total is not None and cart_total < coupon.min_spend:
        return BELOW_MIN_SPEND
    return None


def service_applies(service: Service, product: Product) -> bool:
    """Whether ``service`` can be bought for ``product`` (its scopes name the product or its category)."""
    if not service.active:
        return False
    return any(
        scope.product_id == product.id or (scope.category_id is not None and scope.category_id == product.category_id)
        for scope in service.scopes
    )


def services_for_products(services: Iterable[Service], products: Iterable[Product]) -> list[Service]:
    """The services that apply to at least one of ``products``, in the given order."""
    owned = list(products)
    return [service for service in services if any(service_applies(service, product) for product in owned)]


def consumable_due(product: Product, last_bought: datetime | None, now: datetime, *, slack: float = 0.8) -> bool:
    """Whether a product bought at ``last_bought`` may be offered again at ``now``.

    Non-consumables are never due again once bought; a consumable is due once
    ``slack`` of its repurchase cycle has passed.
    """
    if last_bought is None:
        return True
    if not product.repurchase_days:
        return False
    return (now - last_bought).total_seconds() >= slack * product.repurchase_days * 86400


def granted_counts(session: Session, customer_id: int) -> dict[int, int]:
    """How many times each coupon was granted to the customer: ``{coupon_id: count}``."""
    rows = session.execute(
        select(CouponGrant.coupon_id, func.count())
        .where(CouponGrant.customer_id == customer_id)
        .group_by(CouponGrant.coupon_id)
    )
    return {coupon_id: count for coupon_id, count in rows}


def eligible_coupons(
    session: Session, customer: Customer | None, now: datetime, *, allow_make_good: bool = False
) -> list[Coupon]:
    """The active coupons ``customer`` may be granted now, best discount first."""
    if customer is None:
        return []
    counts = granted_counts(session, customer.id)
    coupons = session.scalars(select(Coupon).where(Coupon.active.is_(True)).order_by(Coupon.id)).all()
    eligible = [
        coupon
        for coupon in coupons
        if coupon_eligibility(
            coupon, customer, now=now, times_granted=counts.get(coupon.id, 0), allow_make_good=allow_make_good
        )
        is None
    ]
    return sorted(eligible, key=lambda c: (c.discount_type != "percent", -float(c.discount_value)))


def load_services(session: Session) -> list[Service]:
    """All active services with their scopes loaded."""
    return list(
        session.scalars(
            select(Service).where(Service.active.is_(True)).options(selectinload(Service.scopes)).order_by(Service.id)
        )
    )
