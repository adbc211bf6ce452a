"""Redeeming a granted coupon on a new order (which grant, whether it applies, how much it takes off),
and giving it back when that order is cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from store.api.errors import invalid, unknown
from store.events import follow_up
from store.models import (
    Coupon,
    CouponGrant,
    CouponRedemption,
    Customer,
    ItemKind,
    Order,
    Product,
    RecEventType,
    RecommendationEvent,
)
from store.rules import (
    BELOW_MIN_SPEND,
    EXPIRED,
    INACTIVE,
    NOT_YET_VALID,
    TIER_TOO_LOW,
    coupon_eligibility,
)

CENT = Decimal("0.01")
FIELD = "coupon_code"
API_SENDER = "store-api"  # sender of a redemption whose grant the bot never recorded

_WHY = {
    INACTIVE: "is no longer active",
    NOT_YET_VALID: "is not valid yet when the order was placed",
    EXPIRED: "had expired when the order was placed",
    TIER_TOO_LOW: "needs a higher loyalty tier than the customer's",
    BELOW_MIN_SPEND: "needs a higher spend than this order's",
}


@dataclass(frozen=True)
class PricedLine:
    """A product line as bought: the product, quantity and unit price."""

    product: Product
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def discount_base(coupon: Coupon, lines: list[PricedLine], services_total: Decimal) -> Decimal:
    """What the coupon applies to: its product's or category's lines, else the whole order with services."""
    if coupon.product_id is not None:
        return sum((line.amount for line in lines if line.product.id == coupon.product_id), Decimal("0"))
    if coupon.category_id is not None:
        return sum((line.amount for line in lines if line.product.category_id == coupon.category_id), Decimal("0"))
    return sum((line.amount for line in lines), services_total)


def discount_amount(coupon: Coupon, base: Decimal) -> Decimal:
    """Percent coupons take ``value``% of the base (to the cent, half up); amount coupons at most the base."""
    if coupon.discount_type == "percent":
        return (base * coupon.discount_value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(coupon.discount_value, base).quantize(CENT)


def unredeemed_grant(session: Session, coupon_id: int, customer_id: int) -> CouponGrant | None:
    """The customer's oldest grant of the coupon that no order uses (a cancelled order's use was released)."""
    return session.scalars(
        select(CouponGrant)
        .outerjoin(CouponRedemption, and_(CouponRedemption.grant_id == CouponGrant.id,
                                          CouponRedemption.released_at.is_(None)))
        .where(
            CouponGrant.coupon_id == coupon_id,
            CouponGrant.customer_id == customer_id,
            CouponRedemption.id.is_(None),
        )
        .order_by(CouponGrant.granted_at, CouponGrant.id)
        .limit(1)
    ).first()


def redeem_coupon(
    session: Session,
    code: str,
    customer: Customer,
    order: Order,
    lines: list[PricedLine],
    services_total: Decimal,
    *,
    now: datetime,
) -> Decimal:
    """Redeem the customer's grant of coupon ``code`` on ``order`` (flushed); returns the discount.

    The customer must hold an unredeemed grant; the coupon must be active,
    valid when the order was placed, allowed for the customer's tier, apply
    to something in the order and reach ``min_spend`` on what it applies to.
    Records a ``CouponRedemption`` and a ``redeemed`` event (sender, model
    version and fallback copied from the grant's ``granted`` event when the
    bot recorded one; ``revenue`` is the order's total after the discount).
    Raises ``ApiError`` naming ``coupon_code`` otherwise.
    """
    coupon = session.scalar(select(Coupon).where(Coupon.code == code))
    if coupon is None:
        raise unknown(FIELD, f"no coupon has the code {code!r}")
    grant = unredeemed_grant(session, coupon.id, customer.id)
    if grant is None:
        raise invalid(FIELD, f"customer {customer.external_id} holds no unredeemed grant of coupon {code}")
    base = discount_base(coupon, lines, services_total)
    if base <= 0:
        raise invalid(FIELD, f"coupon {code} applies to no item of this order")
    # Grant limits were checked when it was granted; here only the order itself counts.
    why = coupon_eligibility(coupon, customer, now=order.placed_at, times_granted=0, cart_total=base,
                             allow_make_good=True)
    if why is not None:
        raise invalid(FIELD, f"coupon {code} {_WHY.get(why, why)}")
    discount = discount_amount(coupon, base)
    session.add(CouponRedemption(grant_id=grant.id, order_id=order.id, redeemed_at=now, discount=discount))
    granted = session.scalars(
        select(RecommendationEvent)
        .where(
            RecommendationEvent.customer_id == customer.id,
            RecommendationEvent.kind == ItemKind.COUPON,
            RecommendationEvent.item_id == coupon.id,
            RecommendationEvent.event == RecEventType.GRANTED,
        )
        .order_by(RecommendationEvent.created_at.desc(), RecommendationEvent.id.desc())
        .limit(1)
    ).first()
    session.add(
        RecommendationEvent(
            customer_id=customer.id,
            sender_id=granted.sender_id if granted else API_SENDER,
            created_at=now,
            kind=ItemKind.COUPON,
            item_id=coupon.id,
            event=RecEventType.REDEEMED,
            rank=granted.rank if granted else None,
            model_version=granted.model_version if granted else "",
            fallback=granted.fallback if granted else False,
            reason=f"discount {discount} on order {order.order_number}",
            order_id=order.id,
            revenue=order.total - discount,
        )
    )
    return discount


def release_redemptions(session: Session, order: Order, *, now: datetime) -> int:
    """Give back the coupon grant the cancelled ``order`` used; returns how many redemptions were released.

    The redemption keeps its row (the order's discount stays on record) and
    gets ``released_at`` = ``now``, so the grant counts as unredeemed again
    and the customer can use the coupon on another order if its rules still
    allow. The order's ``redeemed`` event gets a ``redemption_cancelled``
    event with the negated revenue. Idempotent: released redemptions are skipped.
    """
    live = list(session.scalars(
        select(CouponRedemption)
        .where(CouponRedemption.order_id == order.id, CouponRedemption.released_at.is_(None))
        .order_by(CouponRedemption.id)
    ))
    if not live:
        return 0
    for redemption in live:
        redemption.released_at = now
    redeemed = session.scalars(
        select(RecommendationEvent)
        .where(RecommendationEvent.order_id == order.id, RecommendationEvent.event == RecEventType.REDEEMED)
        .order_by(RecommendationEvent.id)
    ).all()
    session.add_all(
        follow_up(event, RecEventType.REDEMPTION_CANCELLED, now=now, order_id=order.id,
                  reason=f"order {order.order_number} cancelled: reverses redeemed event {event.id}",
                  revenue=-(event.revenue or Decimal("0")))
        for event in redeemed
    )
    session.flush()
    return len(live)
