"""Which order lines a customer may return, and registering a return exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions.upsert import insert_for
from store.models import LineStatus, Order, OrderLine, OrderStatus, Product, ReturnRequest


@dataclass(frozen=True)
class ReturnableLine:
    """An order line the customer may return now."""

    line_id: int
    order_number: str
    delivered_at: datetime
    name_en: str
    name_zh: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class SubmitResult:
    """What submitting a return did: ``created``, ``already`` (a retried turn) or ``ineligible``."""

    outcome: str
    reference: str = ""
    name_en: str = ""
    name_zh: str = ""

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def returnable_lines(session: Session, customer_id: int, now: datetime, window_days: int) -> list[ReturnableLine]:
    """The customer's lines that are delivered, within the window, status ok and not yet returned; newest first."""
    since = now - timedelta(days=window_days)
    rows = session.execute(
        select(OrderLine.id, Order.order_number, Order.delivered_at, Product.name_en, Product.name_zh)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .outerjoin(ReturnRequest, ReturnRequest.order_line_id == OrderLine.id)
        .where(
            Order.customer_id == customer_id,
            Order.status == OrderStatus.DELIVERED,
            Order.delivered_at.is_not(None),
            Order.delivered_at >= since,
            OrderLine.status == LineStatus.OK,
            ReturnRequest.id.is_(None),
        )
        .order_by(Order.delivered_at.desc(), OrderLine.id)
    )
    return [ReturnableLine(*row) for row in rows]


def line_name(session: Session, customer_id: int, line_id: int) -> tuple[str, str] | None:
    """(name_en, name_zh) of the product on the customer's own line, else ``None``."""
    row = session.execute(
        select(Product.name_en, Product.name_zh)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.id == line_id, Order.customer_id == customer_id)
    ).first()
    return (row[0], row[1]) if row else None


def reference(request_id: int) -> str:
    """The reference a customer quotes for a return request."""
    return f"R{request_id:06d}"


def submit_return(
    session: Session, customer_id: int, line_id: int, reason: str, now: datetime, window_days: int
) -> SubmitResult:
    """Create the return request and mark the line, unless this line already has one.

    Runs inside the caller's transaction, so the request and the line status
    are written together or not at all.
    """
    existing = session.scalar(
        select(ReturnRequest).where(ReturnRequest.order_line_id == line_id, ReturnRequest.customer_id == customer_id)
    )
    names = line_name(session, customer_id, line_id) or ("", "")
    if existing is not None:
        return SubmitResult("already", reference(existing.id), *names)
    eligible = {line.line_id for line in returnable_lines(session, customer_id, now, window_days)}
    if line_id not in eligible:
        return SubmitResult("ineligible", "", *names)
    # ON CONFLICT: a concurrent retry of the same turn may have created it first (order_line_id is unique).
    statement = (
        insert_for(session, ReturnRequest)
        .values(order_line_id=line_id, customer_id=customer_id, reason=reason, status="requested", created_at=now)
        .on_conflict_do_nothing(index_elements=[ReturnRequest.order_line_id])
        .returning(ReturnRequest.id)
    )
    request_id = session.scalar(statement)
    if request_id is None:
        existing = session.scalar(select(ReturnRequest).where(ReturnRequest.order_line_id == line_id))
        if existing is None or existing.customer_id != customer_id:
            return SubmitResult("ineligible", "", *names)
        return SubmitResult("already", reference(existing.id), *names)
    session.execute(update(OrderLine).where(OrderLine.id == line_id).values(status=LineStatus.RETURN_REQUESTED))
    return SubmitResult("created", reference(request_id), *names)
