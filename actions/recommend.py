"""Recommendations: products (best sellers for now), coupons and services.

Every item shown is recorded as a ``RecommendationEvent`` ("shown") in the
same transaction that chose it, so attribution can later tie purchases to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import i18n
from actions.base import ShopAction, Turn, say
from actions.matching import detect_category
from actions.recommend_source import RecommendationRequest, RecommendationSource
from actions.services import ServiceOffer, find_services
from actions.textparse import mentions_any, parse_budget
from store.models import (
    Category,
    Coupon,
    Customer,
    ItemKind,
    Order,
    OrderLine,
    Product,
    RecEventType,
    RecommendationEvent,
)
from store.rules import eligible_coupons

PRODUCT_LIMIT = 3
COUPON_LIMIT = 5
_LAST_TIME = ("last time", "same as before", "again", "上次", "上回", "之前买", "再买")


@dataclass(frozen=True)
class ShownProduct:
    """A recommended product as shown: names, price and why it was picked."""

    name_en: str
    name_zh: str
    price: Decimal
    reason: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def record_shown(
    session: Session,
    turn: Turn,
    kind: ItemKind,
    item_ids: list[int],
    *,
    model_version: str,
    fallback: bool = False,
    scores: list[float] | None = None,
    reasons: list[str] | None = None,
) -> None:
    """One "shown" event per item, ranked from 1, for this conversation and customer."""
    for rank, item_id in enumerate(item_ids, start=1):
        session.add(
            RecommendationEvent(
                customer_id=turn.customer.id if turn.customer else None,
                sender_id=turn.sender_id,
                created_at=turn.now,
                kind=kind,
                item_id=item_id,
                event=RecEventType.SHOWN,
                rank=rank,
                score=scores[rank - 1] if scores else None,
                model_version=model_version,
                fallback=fallback,
                reason=reasons[rank - 1] if reasons else "",
            )
        )


def last_category_id(session: Session, customer_id: int) -> int | None:
    """The category of the customer's most recently ordered product."""
    return session.scalar(
        select(Product.category_id)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), OrderLine.id)
        .limit(1)
    )


def recommend_products(
    session: Session, turn: Turn, source: RecommendationSource
) -> tuple[list[ShownProduct], str | None, Decimal | None]:
    """Pick products for the message, record them as shown; also return the category name and budget used."""
    category = detect_category(session, turn.text)
    if category is None and turn.customer and mentions_any(turn.text, _LAST_TIME):
        last = last_category_id(session, turn.customer.id)
        category = session.get(Category, last) if last is not None else None
    category_id = category.id if category else None
    budget = parse_budget(turn.text)
    request = RecommendationRequest(
        turn.customer.id if turn.customer else None, category_id, budget, PRODUCT_LIMIT, turn.now
    )
    answer = source.recommend(session, request)
    picks = answer.items
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_([r.product_id for r in picks])))}
    picks = [r for r in picks if r.product_id in products]
    record_shown(
        session,
        turn,
        ItemKind.PRODUCT,
        [r.product_id for r in picks],
        model_version=answer.model_version,
        fallback=answer.fallback,
        scores=[r.score for r in picks],
        reasons=[r.reason for r in picks],
    )
    shown = [
        ShownProduct(
            products[r.product_id].name_en, products[r.product_id].name_zh, products[r.product_id].price, r.reason
        )
        for r in picks
    ]
    category_name = None
    if category is not None:
        category_name = category.name_zh if turn.lang == "zh" else category.name_en
    return shown, category_name, budget


class ActionRecommendProducts(ShopAction):
    """Best sellers in the mentioned category and budget (until the model server replaces the source)."""

    def name(self) -> str:
        return "action_recommend_products"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        source = turn.context.recommender
        shown, category, budget = await turn.db(lambda session: recommend_products(session, turn, source))
        if not shown:
            say(dispatcher, turn.t("rec.none"))
            return []
        say(dispatcher, "\n".join(product_lines(shown, category, budget, turn)))
        return []


def product_lines(shown: list[ShownProduct], category: str | None, budget: Decimal | None, turn: Turn) -> list[str]:
    """The reply, one header per group of items chosen for the same reason, so nothing is mislabeled."""
    category_text = turn.t("rec.category", name=category) if category else ""
    budget_text = turn.t("rec.budget", amount=turn.money(budget)) if budget is not None else ""
    lines: list[str] = []
    previous = None
    for rank, item in enumerate(shown, start=1):
        if item.reason != previous:
            if item.reason == "bestseller":
                lines.append(turn.t("rec.bestsellers", category=category_text, budget=budget_text))
            elif item.reason == "in_stock":
                lines.append(
                    turn.t("rec.also") if lines else turn.t("rec.in_stock", category=category_text, budget=budget_text)
                )
            else:
                lines.append(turn.t("rec.picks", category=category_text, budget=budget_text))
            previous = item.reason
        lines.append(turn.t("rec.item", rank=rank, name=item.name(turn.lang), price=turn.money(item.price)))
    return lines


def coupons_for(session: Session, turn: Turn) -> list[Coupon]:
    """The coupons the signed-in customer may use now (store rules), recorded as shown."""
    customer = session.get(Customer, turn.customer.id) if turn.customer else None
    coupons = eligible_coupons(session, customer, turn.now)[:COUPON_LIMIT]
    record_shown(session, turn, ItemKind.COUPON, [c.id for c in coupons], model_version="rules-v0")
    return coupons


def describe_coupon(coupon: Coupon, turn: Turn) -> str:
    """One coupon: name, code, discount, minimum spend and end date."""
    min_spend = turn.t("coupon.min_spend", amount=turn.money(coupon.min_spend)) if coupon.min_spend else ""
    name = coupon.name_zh if turn.lang == "zh" else coupon.name_en
    if coupon.discount_type == "percent":
        return turn.t(
            "coupon.percent",
            name=name,
            code=coupon.code,
            value=_plain_number(coupon.discount_value),
            min_spend=min_spend,
            until=i18n.day(coupon.valid_to),
        )
    return turn.t(
        "coupon.amount",
        name=name,
        code=coupon.code,
        value=turn.money(coupon.discount_value),
        min_spend=min_spend,
        until=i18n.day(coupon.valid_to),
    )


def _plain_number(value: Decimal) -> str:
    """15.00 -> "15", 7.50 -> "7.5"."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class ActionRecommendCoupons(ShopAction):
    """The coupons the customer is eligible for; anonymous visitors are invited to sign in."""

    def name(self) -> str:
        return "action_recommend_coupons"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if turn.customer is None:
            say(dispatcher, turn.t("coupon.anonymous"))
            return []
        coupons = await turn.db(lambda session: coupons_for(session, turn))
        if not coupons:
            say(dispatcher, turn.t("coupon.none"))
            return []
        say(dispatcher, "\n".join([turn.t("coupon.intro"), *(describe_coupon(c, turn) for c in coupons)]))
        return []


def services_for(session: Session, turn: Turn) -> tuple[str, str | None, list[ServiceOffer]]:
    """Services for the mentioned category or the customer's products, recorded as shown."""
    scope, category_name, offers = find_services(session, turn)
    record_shown(session, turn, ItemKind.SERVICE, [o.service_id for o in offers], model_version="rules-v0")
    return scope, category_name, offers


class ActionRecommendServices(ShopAction):
    """Services (warranty, installation, gift wrapping...) that fit the customer's products or the category asked."""

    def name(self) -> str:
        return "action_recommend_services"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        scope, category, offers = await turn.db(lambda session: services_for(session, turn))
        if not offers:
            say(dispatcher, turn.t("service.none"))
            return []
        header = turn.t(f"service.{scope}", name=category) if scope == "category" else turn.t(f"service.{scope}")
        lines = [header, *(turn.t("service.item", name=o.name(turn.lang), price=turn.money(o.price)) for o in offers)]
        if turn.customer is None and scope == "general":
            lines.append(turn.t("service.sign_in_hint"))
        say(dispatcher, "\n".join(lines))
        return []
