"""Attributing an order to the recommendations that came before it.

The rule is **last touch within a window**: each product line and each
service purchase of an order is credited to the single most recent
recommendation of that same item (kind and id) that was shown to, or
clicked by, the same customer within ``window_days`` before the order was
placed. The credit is one new ``RecommendationEvent`` of event
``purchased`` carrying the order, the revenue and the rank, model version
and fallback flag of the touch it credits, so reports can compare models.

When the order is cancelled, each of its ``purchased`` events gets a
``purchase_cancelled`` event: same customer, conversation, item, order,
rank and model, and the negated revenue. The ``purchased`` rows are never
changed, so the event log keeps what happened and when; revenue totals go
through ``attributed_revenue``, which leaves cancelled purchases out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from store.events import follow_up
from store.models import (
    ItemKind,
    Order,
    OrderLine,
    RecEventType,
    RecommendationEvent,
    ServicePurchase,
)

TOUCH_EVENTS = (RecEventType.SHOWN, RecEventType.CLICKED)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Purchase:
    """What an order bought of one item: its kind, id and the money it brought."""

    kind: ItemKind
    item_id: int
    revenue: Decimal


def order_purchases(session: Session, order: Order) -> list[Purchase]:
    """The order's products and services, one entry per item (repeated lines are summed)."""
    revenue: dict[tuple[ItemKind, int], Decimal] = defaultdict(Decimal)
    lines = session.execute(
        select(OrderLine.product_id, OrderLine.quantity, OrderLine.unit_price).where(OrderLine.order_id == order.id)
    )
    for product_id, quantity, unit_price in lines:
        revenue[(ItemKind.PRODUCT, product_id)] += Decimal(quantity) * unit_price
    services = session.execute(
        select(ServicePurchase.service_id, ServicePurchase.price).where(ServicePurchase.order_id == order.id)
    )
    for service_id, price in services:
        revenue[(ItemKind.SERVICE, service_id)] += price
    return [Purchase(kind, item_id, amount) for (kind, item_id), amount in sorted(revenue.items())]


def last_touch(
    session: Session, customer_id: int, kind: ItemKind, item_id: int, *, since: datetime, until: datetime
) -> RecommendationEvent | None:
    """The customer's most recent shown or clicked event for the item in ``[since, until]``."""
    return session.scalars(
        select(RecommendationEvent)
        .where(
            RecommendationEvent.customer_id == customer_id,
            RecommendationEvent.kind == kind,
            RecommendationEvent.item_id == item_id,
            RecommendationEvent.event.in_(TOUCH_EVENTS),
            RecommendationEvent.created_at >= since,
            RecommendationEvent.created_at <= until,
        )
        .order_by(RecommendationEvent.created_at.desc(), RecommendationEvent.id.desc())
        .limit(1)
    ).first()


def order_attributions(session: Session, order_id: int) -> list[RecommendationEvent]:
    """Every ``purchased`` event recorded for the order, in item order."""
    return list(
        session.scalars(
            select(RecommendationEvent)
            .where(RecommendationEvent.order_id == order_id, RecommendationEvent.event == RecEventType.PURCHASED)
            .order_by(RecommendationEvent.kind, RecommendationEvent.item_id, RecommendationEvent.id)
        )
    )


def attribute_order(session: Session, order: Order, *, window_days: int, now: datetime) -> list[RecommendationEvent]:
    """Credit the order's items to the recommendations that led to them (last touch within the window).

    For each product line and service purchase, the most recent ``shown`` or
    ``clicked`` event of the same customer, kind and item created at most
    ``window_days`` days before ``order.placed_at`` (and not after it) gets
    one ``purchased`` event: ``order_id``, ``revenue`` (quantity x unit
    price, summed over lines of the same item; the price of a service), and
    ``rank``, ``score``, ``model_version``, ``fallback`` and ``sender_id``
    copied from that touch; ``reason`` names the touch's id. Items with no
    touch in the window are not attributed. A window of 0 days credits only
    touches at the very moment of the order.

    Idempotent: an item of this order that already has a ``purchased``
    event is skipped, so attributing the same order again adds nothing.
    The caller owns the transaction; the new rows are added and flushed.

    Args:
        session: Open session inside the caller's transaction.
        order: A flushed order (it has an id and its lines are written).
        window_days: How many days before the order a touch still counts.
        now: When the attribution is recorded (the new events' ``created_at``).

    Returns:
        The ``purchased`` events added by this call (empty when nothing new).
    """
    if window_days < 0:
        raise ValueError(f"window_days must be 0 or more, got {window_days}")
    done = {(event.kind, event.item_id) for event in order_attributions(session, order.id)}
    since = order.placed_at - timedelta(days=window_days)
    added: list[RecommendationEvent] = []
    for purchase in order_purchases(session, order):
        if (purchase.kind, purchase.item_id) in done:
            continue
        touch = last_touch(
            session, order.customer_id, purchase.kind, purchase.item_id, since=since, until=order.placed_at
        )
        if touch is None:
            continue
        added.append(follow_up(touch, RecEventType.PURCHASED, now=now,
                               reason=f"last touch: {touch.event.value} event {touch.id}",
                               customer_id=order.customer_id, order_id=order.id, revenue=purchase.revenue))
    session.add_all(added)
    session.flush()
    return added


def reverse_order_attribution(session: Session, order: Order, *, now: datetime) -> list[RecommendationEvent]:
    """Record a ``purchase_cancelled`` event for each ``purchased`` event of the cancelled ``order``.

    Each copies its purchase (customer, sender, kind, item, rank, score,
    model version, fallback, order) with ``revenue`` negated and
    ``created_at`` = ``now``. Idempotent: a purchase already reversed is
    skipped. The caller owns the transaction; the new rows are added and flushed.

    Returns:
        The ``purchase_cancelled`` events added by this call.
    """
    reversed_items = set(session.execute(
        select(RecommendationEvent.kind, RecommendationEvent.item_id)
        .where(RecommendationEvent.order_id == order.id,
               RecommendationEvent.event == RecEventType.PURCHASE_CANCELLED)
    ).tuples())
    added = [
        follow_up(purchase, RecEventType.PURCHASE_CANCELLED, now=now,
                  reason=f"order {order.order_number} cancelled: reverses purchased event {purchase.id}",
                  order_id=order.id, revenue=-(purchase.revenue or Decimal("0")))
        for purchase in order_attributions(session, order.id)
        if (purchase.kind, purchase.item_id) not in reversed_items
    ]
    session.add_all(added)
    session.flush()
    return added


def attributed_revenue(session: Session, *, since: datetime, until: datetime) -> dict[str, Decimal]:
    """Revenue credited to each model version by purchases attributed in ``[since, until)``.

    A purchase whose order was later cancelled (it has a
    ``purchase_cancelled`` event, whenever that came) counts for nothing.
    Model versions with no remaining revenue are left out.
    """
    reversal = aliased(RecommendationEvent)
    cancelled = exists().where(
        reversal.event == RecEventType.PURCHASE_CANCELLED,
        reversal.order_id == RecommendationEvent.order_id,
        reversal.kind == RecommendationEvent.kind,
        reversal.item_id == RecommendationEvent.item_id,
    )
    rows = session.execute(
        select(RecommendationEvent.model_version, func.sum(RecommendationEvent.revenue))
        .where(RecommendationEvent.event == RecEventType.PURCHASED, RecommendationEvent.created_at >= since,
               RecommendationEvent.created_at < until, ~cancelled)
        .group_by(RecommendationEvent.model_version)
        .order_by(RecommendationEvent.model_version)
    ).tuples()
    return {model: Decimal(total).quantize(CENT) for model, total in rows if total}
