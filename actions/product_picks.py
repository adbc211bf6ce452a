"""Choose products for a turn: the model server first, the fallback ranking when it cannot answer.

The model server reads the customer's purchases and consultations itself
and applies the store's rules inside its ranking; here its answer is
checked once more against the database as it is now (a product may have
sold out since), the customer's dismissals are removed, and each item gets
its reason from the model's evidence. When the server is slow, down, or
returns nothing usable, ``fallback_products`` answers and the answer is
marked as a fallback. Nothing here raises for the model's sake: the
customer always gets an answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.base import Turn
from actions.model_client import Evidence, ModelAnswer, ModelQuery, ModelUnavailable
from actions.recommend_source import (
    Reason,
    Recommendation,
    RecommendationRequest,
    Recommendations,
    fallback_products,
    fits,
    last_bought_times,
)
from store.models import Product

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProductAsk:
    """A product request as the action understood it."""

    request: RecommendationRequest
    category_code: str | None
    conversation: str


def reason_from(evidence: tuple[Evidence, ...]) -> Reason:
    """The evidence that moved the score most, as a ``Reason``; ``model`` when none moved it up."""
    positive = [e for e in evidence if e.weight > 0]
    if not positive:
        return Reason("model")
    top = max(positive, key=lambda e: e.weight)
    if top.type == "purchase":
        return Reason("bought", top.text, top.date)
    if top.type == "consultation":
        return Reason("said", top.text, top.date)
    return Reason("conversation")


def resolve_model_answer(session: Session, answer: ModelAnswer, request: RecommendationRequest) -> Recommendations:
    """The model's items that are still allowed now, in its order, with reasons."""
    codes = [item.code for item in answer.items]
    products = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(codes)))}
    bought = last_bought_times(session, request.customer_id)
    picks: list[Recommendation] = []
    for item in answer.items:
        product = products.get(item.code)
        if product is None or not fits(product, request, bought.get(product.id)):
            continue
        picks.append(Recommendation(product.id, item.score, reason_from(item.evidence)))
        if len(picks) == request.limit:
            break
    return Recommendations(picks, answer.model_version)


async def pick_products(turn: Turn, ask: ProductAsk) -> Recommendations:
    """Up to ``ask.request.limit`` products for this turn, from the model or else the fallback."""
    request = ask.request
    client = turn.context.model_client
    if client is not None:
        query = ModelQuery(
            # Without consent to personalization the model sees only this conversation.
            customer_id=turn.customer.external_id if turn.customer and turn.customer.personalize else None,
            conversation=ask.conversation,
            kind="product",
            k=request.limit + len(request.exclude),
            language=turn.lang,
            category=ask.category_code,
            budget=float(request.budget) if request.budget is not None else None,
        )
        try:
            answer = await client.recommend(query)
        except ModelUnavailable as error:
            logger.warning("model server unavailable, answering from the fallback: %s", error.reason)
        else:
            picks = await turn.db(lambda session: resolve_model_answer(session, answer, request))
            if picks.items:
                return picks
            logger.warning("model %s returned nothing sellable; answering from the fallback", answer.model_version)
    return await turn.db(lambda session: fallback_products(session, request))
