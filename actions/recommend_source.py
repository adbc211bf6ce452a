"""Where product recommendations come from, behind one small interface.

``BestSellerSource`` is the simple source used until the model server lands:
the most units sold in the last 90 days, in stock, in the asked category and
budget. A model-server client only has to implement ``RecommendationSource``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Order, OrderLine, OrderStatus, Product
from store.rules import is_sellable

BESTSELLER_DAYS = 90


@dataclass(frozen=True)
class RecommendationRequest:
    """What the customer asked for: category, budget, how many; customer ``None`` when anonymous."""

    customer_id: int | None
    category_id: int | None
    budget: Decimal | None
    limit: int
    now: datetime


@dataclass(frozen=True)
class Recommendation:
    """One product to show, with its score and why it was chosen ("bestseller" or "in_stock")."""

    product_id: int
    score: float
    reason: str


@dataclass(frozen=True)
class Recommendations:
    """A source's answer: the items, the model that chose them, and whether a fallback answered."""

    items: list[Recommendation]
    model_version: str
    fallback: bool = False


class RecommendationSource(Protocol):
    """Anything that can rank products for a request.

    Called on a worker thread inside the turn's transaction; an
    implementation that calls a remote model must bound the call itself
    (``settings.recommend_timeout_s``) and answer with a fallback, marked
    ``fallback=True``, rather than raise.
    """

    def recommend(self, session: Session, request: RecommendationRequest) -> Recommendations:
        """Up to ``request.limit`` sellable products, best first."""
        ...


class BestSellerSource:
    """Best sellers by units in the last 90 days; topped up with in-stock products, cheapest first."""

    model_version = "bestseller-v0"

    def recommend(self, session: Session, request: RecommendationRequest) -> Recommendations:
        since = request.now - timedelta(days=BESTSELLER_DAYS)
        units = func.sum(OrderLine.quantity).label("units")
        query = (
            select(Product, units)
            .join(OrderLine, OrderLine.product_id == Product.id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.placed_at >= since, Order.status != OrderStatus.CANCELLED)
            .group_by(Product.id)
            .order_by(units.desc(), Product.id)
        )
        query = self._filtered(query, request)
        ranked = [
            Recommendation(product.id, float(sold), "bestseller")
            for product, sold in session.execute(query)
            if is_sellable(product)
        ][: request.limit]
        if len(ranked) < request.limit:
            seen = {item.product_id for item in ranked}
            extra = self._filtered(select(Product).order_by(Product.price, Product.id), request)
            for product in session.scalars(extra):
                if len(ranked) >= request.limit:
                    break
                if product.id not in seen and is_sellable(product):
                    ranked.append(Recommendation(product.id, 0.0, "in_stock"))
        return Recommendations(ranked, self.model_version)

    @staticmethod
    def _filtered(query, request: RecommendationRequest):  # type: ignore[no-untyped-def]
        query = query.where(Product.active.is_(True), Product.stock > 0)
        if request.category_id is not None:
            query = query.where(Product.category_id == request.category_id)
        if request.budget is not None:
            query = query.where(Product.price <= request.budget)
        return query
