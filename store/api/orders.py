"""Placing an order from the shop's backend: validate, write, take stock, redeem, attribute.

``place_order`` runs inside the caller's transaction and raises ``ApiError``
for anything it refuses, so a refused order leaves nothing written. An
``order_number`` the store already holds is an idempotent retry when the
body says nothing different (fields the body leaves out, such as a default
price or time, are not compared), and a 409 naming the first differing
field otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from store.api.coupons import PricedLine, redeem_coupon
from store.api.errors import conflict, invalid, unknown
from store.api.schemas import OrderBody
from store.attribution import attribute_order, order_attributions
from store.models import (
    Coupon,
    CouponGrant,
    CouponRedemption,
    Customer,
    ItemKind,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Service,
    ServicePurchase,
)
from store.rules import service_applies

# A backend clock a little ahead of ours is not an order from the future.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class OrderResult:
    """What ``POST /v1/orders`` answers; ``created`` is false for an idempotent retry."""

    created: bool
    order_number: str
    total: Decimal
    discount: Decimal
    attributed: list[dict[str, Any]]

    def body(self) -> dict[str, Any]:
        """The JSON answer (money as strings)."""
        return {"order_number": self.order_number, "total": str(self.total), "discount": str(self.discount),
                "attributed": self.attributed}


def place_order(session: Session, body: OrderBody, *, now: datetime, window_days: int) -> OrderResult:
    """Write the order, its lines and services, take the stock, redeem the coupon and attribute the order.

    Raises:
        ApiError: 400 naming the field for an unknown or unfit reference, 409
            for a conflicting duplicate ``order_number`` or too little stock.
    """
    existing = session.scalar(select(Order).where(Order.order_number == body.order_number))
    if existing is not None:
        difference = first_difference(session, existing, body)
        if difference is not None:
            raise conflict(difference, f"order {body.order_number} already exists with a different {difference}")
        return order_result(session, existing, created=False)
    customer = session.scalar(select(Customer).where(Customer.external_id == body.customer_id))
    if customer is None:
        raise unknown("customer_id", f"no customer has the id {body.customer_id!r}")
    if not body.lines and not body.services:
        raise invalid("lines", "an order needs at least one line or service")
    placed_at = body.placed_at or now
    if placed_at > now + CLOCK_SKEW:
        raise invalid("placed_at", f"{placed_at.isoformat()} is in the future")
    lines = _priced_lines(session, body)
    services = _services(session, body)
    services_total = sum((purchase.price for purchase in services), Decimal("0"))
    status = OrderStatus(body.status)
    order = Order(
        order_number=body.order_number,
        customer_id=customer.id,
        status=status,
        placed_at=placed_at,
        shipped_at=placed_at if status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) else None,
        delivered_at=placed_at if status is OrderStatus.DELIVERED else None,
        total=sum((line.amount for line in lines), services_total),
    )
    order.lines = [
        OrderLine(product_id=line.product.id, quantity=line.quantity, unit_price=line.unit_price) for line in lines
    ]
    session.add(order)
    session.flush()
    for purchase in services:
        purchase.order_id = order.id
    session.add_all(services)
    for index, line in enumerate(lines):
        take_stock(session, line, f"lines.{index}.sku")
    discount = Decimal("0")
    if body.coupon_code is not None:
        discount = redeem_coupon(session, body.coupon_code, customer, order, lines, services_total, now=now)
        order.total -= discount
    session.flush()
    attribute_order(session, order, window_days=window_days, now=now)
    return order_result(session, order, created=True)


def _priced_lines(session: Session, body: OrderBody) -> list[PricedLine]:
    skus = [line.sku for line in body.lines]
    products = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(skus)))} if skus else {}
    priced: list[PricedLine] = []
    for index, line in enumerate(body.lines):
        field = f"lines.{index}.sku"
        product = products.get(line.sku)
        if product is None:
            raise unknown(field, f"no product has the SKU {line.sku!r}")
        if skus.index(line.sku) != index:
            raise invalid(field, f"{line.sku} is listed twice; give one line with the total quantity")
        if not product.active:
            raise invalid(field, f"{line.sku} is not sold any more")
        price = product.price if line.unit_price is None else line.unit_price
        priced.append(PricedLine(product, line.quantity, price))
    return priced


def _services(session: Session, body: OrderBody) -> list[ServicePurchase]:
    codes = {service.code for service in body.services}
    known = {
        s.code: s
        for s in session.scalars(select(Service).where(Service.code.in_(codes)).options(selectinload(Service.scopes)))
    } if codes else {}
    purchases: list[ServicePurchase] = []
    for index, item in enumerate(body.services):
        service = known.get(item.code)
        if service is None:
            raise unknown(f"services.{index}.code", f"no service has the code {item.code!r}")
        if not service.active:
            raise invalid(f"services.{index}.code", f"service {item.code} is not sold any more")
        product_id = None
        if item.sku is not None:
            product = session.scalar(select(Product).where(Product.sku == item.sku))
            if product is None:
                raise unknown(f"services.{index}.sku", f"no product has the SKU {item.sku!r}")
            if not service_applies(service, product):
                raise invalid(f"services.{index}.sku", f"service {item.code} does not apply to {item.sku}")
            product_id = product.id
        price = service.price if item.price is None else item.price
        purchases.append(ServicePurchase(service_id=service.id, product_id=product_id, price=price))
    return purchases


def take_stock(session: Session, line: PricedLine, field: str) -> None:
    """Lower the product's stock by the line's quantity in one guarded UPDATE (never below zero), or 409."""
    taken = session.execute(
        update(Product)
        .where(Product.id == line.product.id, Product.stock >= line.quantity)
        .values(stock=Product.stock - line.quantity)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        left = session.scalar(select(Product.stock).where(Product.id == line.product.id))
        raise conflict(field, f"only {left} of {line.product.sku} in stock, {line.quantity} ordered")
    session.expire(line.product, ["stock"])


def first_difference(session: Session, order: Order, body: OrderBody) -> str | None:
    """The first field where ``body`` disagrees with the stored ``order``, or ``None`` for the same order."""
    customer = session.scalar(select(Customer.external_id).where(Customer.id == order.customer_id))
    if customer != body.customer_id:
        return "customer_id"
    if body.placed_at is not None and body.placed_at != order.placed_at:
        return "placed_at"
    if "status" in body.model_fields_set and body.status != OrderStatus(order.status).value:
        return "status"
    stored_lines = sorted(
        session.execute(
            select(Product.sku, OrderLine.quantity, OrderLine.unit_price)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order.id)
        ).tuples()
    )
    given_lines = sorted(body.lines, key=lambda line: line.sku)
    if len(stored_lines) != len(given_lines):
        return "lines"
    for (sku, quantity, price), line in zip(stored_lines, given_lines):
        if (sku, quantity) != (line.sku, line.quantity) or line.unit_price not in (None, price):
            return "lines"
    stored_services = sorted(
        session.execute(
            select(Service.code, Product.sku, ServicePurchase.price)
            .join(Service, Service.id == ServicePurchase.service_id)
            .outerjoin(Product, Product.id == ServicePurchase.product_id)
            .where(ServicePurchase.order_id == order.id)
        ).tuples(),
        key=lambda row: (row[0], row[1] or ""),
    )
    given_services = sorted(body.services, key=lambda item: (item.code, item.sku or ""))
    if len(stored_services) != len(given_services):
        return "services"
    for (code, sku, price), item in zip(stored_services, given_services):
        if (code, sku) != (item.code, item.sku) or item.price not in (None, price):
            return "services"
    if body.coupon_code != _redeemed_code(session, order.id):
        return "coupon_code"
    return None


def _redeemed_code(session: Session, order_id: int) -> str | None:
    return session.scalar(
        select(Coupon.code)
        .join(CouponGrant, CouponGrant.coupon_id == Coupon.id)
        .join(CouponRedemption, CouponRedemption.grant_id == CouponGrant.id)
        .where(CouponRedemption.order_id == order_id)
        .limit(1)
    )


def order_result(session: Session, order: Order, *, created: bool) -> OrderResult:
    """The answer for a stored order: its total, its coupon discount and its attributions."""
    discount = session.scalar(
        select(func.coalesce(func.sum(CouponRedemption.discount), 0)).where(CouponRedemption.order_id == order.id)
    )
    events = order_attributions(session, order.id)
    product_ids = [e.item_id for e in events if e.kind is ItemKind.PRODUCT]
    service_ids = [e.item_id for e in events if e.kind is ItemKind.SERVICE]
    names = {(ItemKind.PRODUCT, i): sku for i, sku in session.execute(
        select(Product.id, Product.sku).where(Product.id.in_(product_ids)))} if product_ids else {}
    if service_ids:
        names.update({(ItemKind.SERVICE, i): code for i, code in session.execute(
            select(Service.id, Service.code).where(Service.id.in_(service_ids)))})
    attributed = [
        {
            "kind": event.kind.value,
            "item": names.get((event.kind, event.item_id), str(event.item_id)),
            "revenue": str(event.revenue),
            "rank": event.rank,
            "model_version": event.model_version,
            "fallback": event.fallback,
        }
        for event in events
    ]
    return OrderResult(created, order.order_number, Decimal(order.total).quantize(Decimal("0.01")),
                       Decimal(discount).quantize(Decimal("0.01")), attributed)
