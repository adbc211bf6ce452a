"""Product recommendations when the model server cannot answer: the fallback ranking.

``fallback_products`` ranks, in order: products often bought in the same
orders as the customer's recent purchases (co-purchase neighbours), then
best sellers of the last 90 days, then any other in-stock product,
cheapest first; always only sellable products in the asked category and
budget, never one the customer dismissed. Every item carries the reason it
was chosen, and the answer is marked ``fallback=True`` so the review tool
and the attribution report can tell it from the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from store.models import Order, OrderLine, OrderStatus, Product
from store.rules import consumable_due, is_sellable

BESTSELLER_DAYS = 90
ANCHOR_PURCHASES = 5
FALLBACK_VERSION = "fallback-v1"


@dataclass(frozen=True)
class Reason:
    """Why an item was chosen.

    ``kind`` is one of: ``bought`` (a past purchase moved the model's score;
    ``subject`` is its name, ``date`` its day), ``said`` (a consultation
    line; ``subject`` is the snippet), ``conversation`` (this chat),
    ``model`` (the model, without a single dominant cause), ``co_purchase``
    (often bought with ``subject``), ``bestseller``, ``in_stock``.
    """

    kind: str
    subject: str = ""
    date: str | None = None

    def stored(self) -> str:
        """The compact form kept on the recommendation event."""
        return f"{self.kind}:{self.subject}" if self.subject else self.kind


@dataclass(frozen=True)
class RecommendationRequest:
    """What the customer asked for; ``customer_id`` is ``None`` for an anonymous visitor."""

    customer_id: int | None
    category_id: int | None
    budget: Decimal | None
    limit: int
    now: datetime
    exclude: frozenset[int] = field(default_factory=frozenset)
    language: str = "en"
    personalize: bool = True  # False: the customer's purchases only keep just-bought items out


@dataclass(frozen=True)
class Recommendation:
    """One product to show, with its score and why it was chosen."""

    product_id: int
    score: float
    reason: Reason


@dataclass(frozen=True)
class Recommendations:
    """An answer: the items, the model that chose them, and whether the fallback answered."""

    items: list[Recommendation]
    model_version: str
    fallback: bool = False


def fits(product: Product, request: RecommendationRequest, last_bought: datetime | None = None) -> bool:
    """Whether ``product`` may be shown for ``request``: sellable, in category and budget, not dismissed,
    and not just bought unless it is a consumable due again."""
    return (
        is_sellable(product)
        and product.id not in request.exclude
        and (request.category_id is None or product.category_id == request.category_id)
        and (request.budget is None or product.price <= request.budget)
        and consumable_due(product, last_bought, request.now)
    )


def last_bought_times(session: Session, customer_id: int | None) -> dict[int, datetime]:
    """When the customer last ordered each product (cancelled orders excluded)."""
    if customer_id is None:
        return {}
    rows = session.execute(
        select(OrderLine.product_id, func.max(Order.placed_at))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id, Order.status != OrderStatus.CANCELLED)
        .group_by(OrderLine.product_id)
    )
    return {product_id: placed_at for product_id, placed_at in rows}


def fallback_products(session: Session, request: RecommendationRequest) -> Recommendations:
    """Co-purchase neighbours, then best sellers, then in-stock products; up to ``request.limit``."""
    bought = last_bought_times(session, request.customer_id)
    picks: list[Recommendation] = []
    taken: set[int] = set()

    def offer(product: Product, score: float, reason: Reason) -> None:
        if len(picks) < request.limit and product.id not in taken and fits(product, request, bought.get(product.id)):
            picks.append(Recommendation(product.id, score, reason))
            taken.add(product.id)

    anchors = _co_purchased(session, request, bought) if request.personalize else []
    for product, count, anchor in anchors:
        offer(product, float(count), Reason("co_purchase", anchor))
    if len(picks) < request.limit:
        for product, units in session.execute(_bestsellers(request)):
            offer(product, float(units), Reason("bestseller"))
    if len(picks) < request.limit:
        for product in session.scalars(_in_scope(select(Product), request).order_by(Product.price, Product.id)):
            offer(product, 0.0, Reason("in_stock"))
    return Recommendations(picks, FALLBACK_VERSION, fallback=True)


def _co_purchased(
    session: Session, request: RecommendationRequest, bought: dict[int, datetime]
) -> list[tuple[Product, int, str]]:
    """(product, times bought together, anchor name) for the customer's most recent purchases."""
    if not bought:
        return []
    anchors = [pid for pid, _ in sorted(bought.items(), key=lambda kv: kv[1], reverse=True)[:ANCHOR_PURCHASES]]
    mine, other = aliased(OrderLine), aliased(OrderLine)
    together = func.count().label("together")
    query = (
        select(other.product_id, mine.product_id, together)
        .join(other, other.order_id == mine.order_id)
        .where(mine.product_id.in_(anchors), other.product_id.not_in(anchors))
        .group_by(other.product_id, mine.product_id)
        .order_by(together.desc(), other.product_id)
        .limit(200)
    )
    rows = session.execute(query).all()
    products = {
        p.id: p for p in session.scalars(select(Product).where(Product.id.in_({r[0] for r in rows} | set(anchors))))
    }
    seen: set[int] = set()
    result = []
    for product_id, anchor_id, count in rows:
        if product_id in seen:
            continue
        seen.add(product_id)
        anchor = products[anchor_id]
        result.append((products[product_id], count, anchor.name_zh if request.language == "zh" else anchor.name_en))
    return result


def _bestsellers(request: RecommendationRequest) -> Select:  # type: ignore[type-arg]
    since = request.now - timedelta(days=BESTSELLER_DAYS)
    units = func.sum(OrderLine.quantity).label("units")
    query = (
        select(Product, units)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.placed_at >= since, Order.status != OrderStatus.CANCELLED)
        .group_by(Product.id)
        .order_by(units.desc(), Product.id)
        .limit(200)
    )
    return _in_scope(query, request)


def _in_scope(query: Select, request: RecommendationRequest) -> Select:  # type: ignore[type-arg]
    query = query.where(Product.active.is_(True), Product.stock > 0)
    if request.category_id is not None:
        query = query.where(Product.category_id == request.category_id)
    if request.budget is not None:
        query = query.where(Product.price <= request.budget)
    return query
