"""Moving an order along: shipped, delivered or cancelled, with the time it happened.

Allowed moves: paid -> shipped, paid or shipped -> delivered (a missing
ship time becomes the delivery time), paid -> cancelled. Cancelling, in
the same transaction, puts the stock back, reverses the order's
attribution (``purchase_cancelled`` events, ``store.attribution``) and
releases its coupon redemption so the grant can be used again
(``store.api.coupons``). Asking for the status the order already has
changes nothing and answers as a success, so a retried call is harmless;
the move itself is one guarded UPDATE, so two requests racing to make the
same move apply it once. Anything else is a 409 naming ``status``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.api.coupons import release_redemptions
from store.api.errors import ApiError, conflict, invalid
from store.api.orders import CLOCK_SKEW
from store.api.schemas import StatusBody
from store.attribution import reverse_order_attribution
from store.models import Order, OrderLine, OrderStatus, Product

_FROM = {
    OrderStatus.SHIPPED: {OrderStatus.PAID},
    OrderStatus.DELIVERED: {OrderStatus.PAID, OrderStatus.SHIPPED},
    OrderStatus.CANCELLED: {OrderStatus.PAID},
}


def change_status(session: Session, order_number: str, body: StatusBody, *, now: datetime) -> dict[str, Any]:
    """Apply ``body`` to the order inside the caller's transaction; returns the order's new state.

    Raises:
        ApiError: 404 for an unknown order, 409 for a move the order's
            status does not allow, 400 for a time before the order (or its
            shipping) or in the future.
    """
    order = session.scalar(select(Order).where(Order.order_number == order_number))
    if order is None:
        raise ApiError(404, "not_found", "order_number", f"no order has the number {order_number!r}")
    target = OrderStatus(body.status)
    at = body.at or now
    if _move(session, order, target, at, now):
        if target is OrderStatus.CANCELLED:
            _restock(session, order.id)
            reverse_order_attribution(session, order, now=now)
            release_redemptions(session, order, now=now)
        if target in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) and order.shipped_at is None:
            order.shipped_at = at
        if target is OrderStatus.DELIVERED:
            order.delivered_at = at
    if body.carrier is not None:
        order.carrier = body.carrier
    if body.tracking_number is not None:
        order.tracking_number = body.tracking_number
    session.flush()
    return state(order)


def _move(session: Session, order: Order, target: OrderStatus, at: datetime, now: datetime) -> bool:
    """Set the order's status to ``target``; ``False`` when it already had it (nothing to do), 409 if it cannot move.

    The write only applies if the status is still the one checked, so of two
    requests making the same move at once exactly one gets ``True``; the
    other re-reads what the first wrote and decides again.
    """
    for _ in range(2):
        current = OrderStatus(order.status)
        if current is target:
            return False
        if current not in _FROM[target]:
            raise conflict("status", f"order {order.order_number} is {current.value} and cannot become {target.value}")
        _check_time(order, target, at, now)
        moved = session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == current)
            .values(status=target)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            session.expire(order, ["status"])
            return True
        session.refresh(order)
    raise conflict("status", f"order {order.order_number} changed while this request ran; send it again")


def _check_time(order: Order, target: OrderStatus, at: datetime, now: datetime) -> None:
    if at > now + CLOCK_SKEW:
        raise invalid("at", f"{at.isoformat()} is in the future")
    if at < order.placed_at:
        raise invalid("at", f"{at.isoformat()} is before the order was placed ({order.placed_at.isoformat()})")
    if target is OrderStatus.DELIVERED and order.shipped_at is not None and at < order.shipped_at:
        raise invalid("at", f"{at.isoformat()} is before the order shipped ({order.shipped_at.isoformat()})")


def _restock(session: Session, order_id: int) -> None:
    lines = session.execute(select(OrderLine.product_id, OrderLine.quantity).where(OrderLine.order_id == order_id))
    for product_id, quantity in lines.tuples().all():
        session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )


def state(order: Order) -> dict[str, Any]:
    """The order's status and times as the API answers them."""
    return {
        "order_number": order.order_number,
        "status": OrderStatus(order.status).value,
        "placed_at": _iso(order.placed_at),
        "shipped_at": _iso(order.shipped_at),
        "delivered_at": _iso(order.delivered_at),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
