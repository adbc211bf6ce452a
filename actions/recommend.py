"""Recommendations in the chat: products (cards with feedback buttons), coupons (granted) and services.

Every item shown is recorded as a ``RecommendationEvent`` ("shown") in the
same transaction that rendered it; "more like this" is recorded as a click
and "not interested" as a dismissal, which keeps the product out of the
customer's later recommendations. Orders placed after a shown item are
attributed to it by the store API (``store.attribution``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions import i18n
from actions.base import ShopAction, Turn, say
from actions.cards import Card, card_buttons, card_text
from actions.coupon_grants import grant_chat
from actions.coupon_text import describe_coupon
from actions.handoff import MESSAGE_CHARS
from actions.matching import detect_category
from actions.model_client import ModelQuery, ModelUnavailable
from actions.product_picks import ProductAsk, pick_products
from actions.recommend_source import RecommendationRequest, Recommendations
from actions.services import ServiceOffer, find_services
from actions.textparse import clean_text, is_payload, mentions_any, parse_budget, payload_entities
from store.models import (
    Category,
    ItemKind,
    Order,
    OrderLine,
    Product,
    RecEventType,
    RecommendationEvent,
)
from store.identity import identity_from_metadata

logger = logging.getLogger(__name__)

PRODUCT_LIMIT = 3
COUPON_CANDIDATES = 5
# The model ranks every service it allows, so the rules' candidates all get a place in its order:
# 50 is the server's cap on k (``model_client.MAX_K``); the demo store has 12 services.
SERVICE_CANDIDATES = 50
DISMISSAL_DAYS = 180
CONVERSATION_MESSAGES = 6
_LAST_TIME = ("last time", "same as before", "again", "上次", "上回", "之前买", "再买")


def record_event(session: Session, turn: Turn, kind: ItemKind, item_id: int, event: RecEventType, *,
                 rank: int | None = None, score: float | None = None, model_version: str = "",
                 fallback: bool = False, reason: str = "") -> RecommendationEvent:
    """Add one recommendation event for this conversation and customer; flushed, so it has its id."""
    row = RecommendationEvent(
        customer_id=turn.customer.id if turn.customer else None, sender_id=turn.sender_id, created_at=turn.now,
        kind=kind, item_id=item_id, event=event, rank=rank, score=score, model_version=model_version,
        fallback=fallback, reason=reason,
    )
    session.add(row)
    session.flush()
    return row


def record_shown(session: Session, turn: Turn, kind: ItemKind, item_ids: list[int], *, model_version: str,
                 fallback: bool = False) -> None:
    """One "shown" event per item, ranked from 1 (coupons and services)."""
    for rank, item_id in enumerate(item_ids, start=1):
        record_event(session, turn, kind, item_id, RecEventType.SHOWN, rank=rank, model_version=model_version,
                     fallback=fallback)


def conversation_text(tracker: Tracker, turn: Turn) -> str:
    """What this customer typed in this session (latest messages, payloads left out), one per line.

    Only the messages sent under the same identity as this turn count: a
    visitor who reuses a customer's sender id must not be recommended to
    from that customer's words, nor the reverse.
    """
    secret = turn.context.settings.token_secret.get_secret_value()
    me = turn.customer.external_id if turn.customer else None
    texts: list[str] = []
    for event in reversed(tracker.events or []):
        if not isinstance(event, dict) or event.get("event") not in ("user", "session_started"):
            continue
        if event.get("event") == "session_started":
            break
        if identity_from_metadata(event.get("metadata"), secret).customer_external_id != me:
            break
        text = clean_text(event.get("text"), MESSAGE_CHARS)
        if text and not is_payload(text):
            texts.append(text)
        if len(texts) >= CONVERSATION_MESSAGES:
            break
    return "\n".join(reversed(texts))


def requested_sku(tracker: Tracker, text: str) -> str | None:
    """The SKU a card button sent, from the NLU entities or the payload itself."""
    latest = tracker.latest_message if isinstance(tracker.latest_message, dict) else {}
    for entity in latest.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == "sku" and isinstance(entity.get("value"), str):
            return entity["value"][:64]
    value = payload_entities(text).get("sku")
    return value[:64] if isinstance(value, str) else None


def _own_events(turn: Turn) -> Any:
    """The filter for this customer's events (this conversation's, when anonymous)."""
    if turn.customer is not None:
        return RecommendationEvent.customer_id == turn.customer.id
    return RecommendationEvent.sender_id == turn.sender_id


def dismissed_products(session: Session, turn: Turn) -> set[int]:
    """Products this customer said they are not interested in, recently."""
    since = turn.now - timedelta(days=DISMISSAL_DAYS)
    return set(session.scalars(select(RecommendationEvent.item_id).where(
        _own_events(turn), RecommendationEvent.kind == ItemKind.PRODUCT,
        RecommendationEvent.event == RecEventType.DISMISSED, RecommendationEvent.created_at >= since)))


def shown_here(session: Session, turn: Turn) -> set[int]:
    """Products already shown in this conversation."""
    return set(session.scalars(select(RecommendationEvent.item_id).where(
        RecommendationEvent.sender_id == turn.sender_id, RecommendationEvent.kind == ItemKind.PRODUCT,
        RecommendationEvent.event == RecEventType.SHOWN)))


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


@dataclass(frozen=True)
class Understood:
    """A product ask plus what the header says about it."""

    ask: ProductAsk
    category_name: str | None
    budget: Decimal | None


def understand(session: Session, turn: Turn, conversation: str) -> Understood:
    """Category (named, or the last order's when "like last time"), budget and exclusions of a product ask."""
    category = detect_category(session, turn.text)
    if category is None and turn.customer and mentions_any(turn.text, _LAST_TIME):
        last = last_category_id(session, turn.customer.id)
        category = session.get(Category, last) if last is not None else None
    budget = parse_budget(turn.text)
    request = RecommendationRequest(
        customer_id=turn.customer.id if turn.customer else None, category_id=category.id if category else None,
        budget=budget, limit=PRODUCT_LIMIT, now=turn.now, exclude=frozenset(dismissed_products(session, turn)),
        language=turn.lang, personalize=turn.customer.personalize if turn.customer else True,
    )
    name = (category.name_zh if turn.lang == "zh" else category.name_en) if category else None
    return Understood(ProductAsk(request, category.code if category else None, conversation), name, budget)


def record_cards(session: Session, turn: Turn, picks: Recommendations) -> list[Card]:
    """Record each pick as shown and return its card (products that vanished meanwhile are skipped)."""
    ids = [item.product_id for item in picks.items]
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    cards = []
    for item in picks.items:
        product = products.get(item.product_id)
        if product is None:
            continue
        event = record_event(session, turn, ItemKind.PRODUCT, product.id, RecEventType.SHOWN, rank=len(cards) + 1,
                             score=item.score, model_version=picks.model_version, fallback=picks.fallback,
                             reason=item.reason.stored())
        cards.append(Card(product.sku, product.name_en, product.name_zh, product.price, item.reason, event.id))
    return cards


def send_cards(dispatcher: CollectingDispatcher, turn: Turn, header: str, cards: list[Card]) -> None:
    """One message per card with its buttons, the header on the first; a sign-in invitation for visitors.

    The header shares the first card's message: every message is one more
    event for Rasa to store and send, in every recommendation turn.
    """
    for rank, card in enumerate(cards, start=1):
        text = card_text(rank, card, turn)
        say(dispatcher, f"{header}\n{text}" if rank == 1 else text, card_buttons(card, turn))
    if turn.anonymous:
        say(dispatcher, turn.t("rec.sign_in"))


def header_for(turn: Turn, picks: Recommendations, category: str | None, budget: Decimal | None) -> str:
    """"Picked for you" when the model chose, "Some ideas" when the fallback did."""
    category_text = turn.t("rec.category", name=category) if category else ""
    budget_text = turn.t("rec.budget", amount=turn.money(budget)) if budget is not None else ""
    key = "rec.ideas" if picks.fallback else "rec.picks"
    return turn.t(key, category=category_text, budget=budget_text)


class ActionRecommendProducts(ShopAction):
    """Products for what the customer asked, chosen by the model server (or the fallback), as cards."""

    def name(self) -> str:
        return "action_recommend_products"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        conversation = conversation_text(tracker, turn)
        understood = await turn.db(lambda session: understand(session, turn, conversation))
        picks = await pick_products(turn, understood.ask)
        cards = await turn.db(lambda session: record_cards(session, turn, picks))
        if not cards:
            say(dispatcher, turn.t("rec.none"))
            return []
        send_cards(dispatcher, turn, header_for(turn, picks, understood.category_name, understood.budget), cards)
        return []


def last_shown(session: Session, turn: Turn) -> list[Product]:
    """The products of this speaker's latest recommendation in this conversation, best first."""
    mine = (RecommendationEvent.sender_id == turn.sender_id, _own_events(turn),
            RecommendationEvent.kind == ItemKind.PRODUCT, RecommendationEvent.event == RecEventType.SHOWN)
    # Every list is recorded with ranks from 1, so the latest list starts at the latest rank 1.
    start = session.scalar(select(func.max(RecommendationEvent.id)).where(*mine, RecommendationEvent.rank == 1))
    if start is None:
        return []
    ids = list(session.scalars(select(RecommendationEvent.item_id)
                               .where(*mine, RecommendationEvent.id >= start).order_by(RecommendationEvent.rank)))
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    return [products[i] for i in ids if i in products]


def feedback_targets(session: Session, turn: Turn, sku: str | None) -> list[Product]:
    """The product a card button names, or, for typed feedback, the latest products shown."""
    if sku is None:
        return last_shown(session, turn)
    product = session.scalar(select(Product).where(Product.sku == sku))
    return [product] if product is not None else []


def record_feedback(session: Session, turn: Turn, product: Product, event: RecEventType) -> None:
    """A click or dismissal of ``product``, tied to the rank and model of its latest "shown" event."""
    shown = session.scalar(select(RecommendationEvent).where(
        _own_events(turn), RecommendationEvent.kind == ItemKind.PRODUCT, RecommendationEvent.item_id == product.id,
        RecommendationEvent.event == RecEventType.SHOWN).order_by(RecommendationEvent.id.desc()).limit(1))
    record_event(session, turn, ItemKind.PRODUCT, product.id, event, rank=shown.rank if shown else None,
                 model_version=shown.model_version if shown else "", fallback=shown.fallback if shown else False)


def _anchor(session: Session, turn: Turn, sku: str | None) -> Product | None:
    """The product "more like this" is about, with the click recorded."""
    targets = feedback_targets(session, turn, sku)[:1]
    for product in targets:
        record_feedback(session, turn, product, RecEventType.CLICKED)
    return targets[0] if targets else None


class ActionMoreLikeThis(ShopAction):
    """"More like this" (a card's button, or typed: the latest top pick): records the click, shows similar items."""

    def name(self) -> str:
        return "action_more_like_this"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        sku = requested_sku(tracker, turn.text)

        def prepare(session: Session) -> tuple[Product | None, ProductAsk | None]:
            anchor = _anchor(session, turn, sku)
            if anchor is None:
                return None, None
            exclude = dismissed_products(session, turn) | shown_here(session, turn) | {anchor.id}
            request = RecommendationRequest(
                customer_id=turn.customer.id if turn.customer else None, category_id=anchor.category_id,
                budget=None, limit=PRODUCT_LIMIT, now=turn.now, exclude=frozenset(exclude), language=turn.lang,
                personalize=turn.customer.personalize if turn.customer else True)
            text = f"{conversation_text(tracker, turn)}\n{anchor.name_zh if turn.lang == 'zh' else anchor.name_en}".strip()
            category = session.get(Category, anchor.category_id)
            return anchor, ProductAsk(request, category.code if category else None, text)

        anchor, ask = await turn.db(prepare)
        if anchor is None or ask is None:
            say(dispatcher, turn.t("rec.unknown_item"))
            return []
        picks = await pick_products(turn, ask)
        cards = await turn.db(lambda session: record_cards(session, turn, picks))
        if not cards:
            say(dispatcher, turn.t("rec.none"))
            return []
        name = anchor.name_zh if turn.lang == "zh" else anchor.name_en
        send_cards(dispatcher, turn, turn.t("rec.similar", name=name), cards)
        return []


class ActionNotInterested(ShopAction):
    """"Not interested" (a card's button, or typed: the latest picks): recorded; not suggested again."""

    def name(self) -> str:
        return "action_not_interested"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        sku = requested_sku(tracker, turn.text)

        def dismiss(session: Session) -> list[str]:
            targets = feedback_targets(session, turn, sku)
            for product in targets:
                record_feedback(session, turn, product, RecEventType.DISMISSED)
            return [p.name_zh if turn.lang == "zh" else p.name_en for p in targets]

        names = await turn.db(dismiss)
        if not names:
            say(dispatcher, turn.t("rec.unknown_item"))
            return []
        say(dispatcher, turn.t("rec.dismissed", name=i18n.join(names, turn.lang)))
        return []


async def model_ranking(turn: Turn, tracker: Tracker, kind: str, k: int) -> tuple[list[str] | None, str]:
    """The model server's codes of ``kind`` (coupons or services), best first, and its model version.

    ``(None, "rules-v0")`` when the model cannot rank: no client configured,
    an anonymous visitor, or ``ModelUnavailable``; never raises for the
    model's sake. Without consent to personalization the model sees only
    this conversation.
    """
    client = turn.context.model_client
    if client is None or turn.customer is None:
        return None, "rules-v0"
    customer_id = turn.customer.external_id if turn.customer.personalize else None
    query = ModelQuery(customer_id=customer_id, conversation=conversation_text(tracker, turn),
                       kind=kind, k=k, language=turn.lang, explain=False)
    try:
        answer = await client.recommend(query)
    except ModelUnavailable as error:
        logger.warning("model server unavailable, %ss in the rules' order: %s", kind, error.reason)
        return None, "rules-v0"
    return [item.code for item in answer.items], answer.model_version


# --- coupons -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouponOutcome:
    """What the coupon turn ends with: the coupon text, and whether it was granted just now."""

    text: str | None
    new: bool


def grant_chat_coupon(session: Session, turn: Turn, ranked_codes: list[str] | None,
                      model_version: str) -> CouponOutcome:
    """Grant the best coupon for this conversation (the model's order, else the rules'), once per conversation."""
    assert turn.customer is not None
    result = grant_chat(session, customer_id=turn.customer.id, sender_id=turn.sender_id, now=turn.now,
                        ranked_codes=ranked_codes, model_version=model_version)
    if result is None:
        return CouponOutcome(None, False)
    return CouponOutcome(describe_coupon(result.coupon, turn), result.new)


class ActionRecommendCoupons(ShopAction):
    """Grants the coupon that fits the customer best (once per conversation); visitors are asked to sign in."""

    def name(self) -> str:
        return "action_recommend_coupons"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if turn.customer is None:
            say(dispatcher, turn.t("coupon.anonymous"))
            return []
        ranked, version = await model_ranking(turn, tracker, "coupon", COUPON_CANDIDATES)
        outcome = await turn.db(lambda session: grant_chat_coupon(session, turn, ranked, version))
        if outcome.text is None:
            say(dispatcher, turn.t("coupon.none"))
            return []
        say(dispatcher, "\n".join([turn.t("coupon.granted" if outcome.new else "coupon.already"), outcome.text]))
        return []


# --- services ----------------------------------------------------------------------------------------


def record_services_shown(session: Session, turn: Turn, offers: list[ServiceOffer], ranked_codes: list[str] | None,
                          model_version: str) -> None:
    """Record ``offers`` as shown, under the model's version when its ranking placed any of them.

    When it placed none (it did not answer, or ranked none of the services
    the rules allow here), the order is the rules' and the events say so:
    ``rules-v0``, a fallback, as for coupons.
    """
    ranked = set(ranked_codes or ())
    placed = any(o.code in ranked for o in offers)
    record_shown(session, turn, ItemKind.SERVICE, [o.service_id for o in offers],
                 model_version=model_version if placed else "rules-v0", fallback=not placed)


def services_for(session: Session, turn: Turn, ranked_codes: list[str] | None = None,
                 model_version: str = "rules-v0") -> tuple[str, str | None, list[ServiceOffer]]:
    """Services for the mentioned category or the customer's products, in the model's order, recorded as shown.

    The rules decide which services may be offered; ``ranked_codes`` (the
    model's, ``None`` when it cannot rank) only orders them.
    """
    scope, category_name, offers = find_services(session, turn, ranked_codes)
    record_services_shown(session, turn, offers, ranked_codes, model_version)
    return scope, category_name, offers


def service_line(offer: ServiceOffer, turn: Turn) -> str:
    """One service with its price, and the customer's product it applies to when known."""
    if offer.for_product is not None:
        product = offer.for_product[1] if turn.lang == "zh" else offer.for_product[0]
        return turn.t("service.for_product", name=offer.name(turn.lang), price=turn.money(offer.price),
                      product=product)
    return turn.t("service.item", name=offer.name(turn.lang), price=turn.money(offer.price))


class ActionRecommendServices(ShopAction):
    """Services (warranty, installation, gift wrapping...) that fit the customer's products or the category asked.

    The rules choose which; the model server's ranking orders them when it answers.
    """

    def name(self) -> str:
        return "action_recommend_services"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        ranked, version = await model_ranking(turn, tracker, "service", SERVICE_CANDIDATES)
        scope, category, offers = await turn.db(lambda session: services_for(session, turn, ranked, version))
        if not offers:
            say(dispatcher, turn.t("service.none"))
            return []
        header = turn.t(f"service.{scope}", name=category) if scope == "category" else turn.t(f"service.{scope}")
        lines = [header, *(service_line(o, turn) for o in offers)]
        if turn.customer is None and scope == "general":
            lines.append(turn.t("service.sign_in_hint"))
        say(dispatcher, "\n".join(lines))
        return []

