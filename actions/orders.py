"""Order status and general delivery questions, answered from the store database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions import i18n
from actions.base import ShopAction, Turn, say
from actions.recommend import SERVICE_CANDIDATES, model_ranking, record_services_shown, service_line
from actions.services import ServiceOffer, after_delivery_offers, delivered_recently
from actions.textparse import find_order_number
from store.models import Order, OrderLine, OrderStatus, ShippingMethod


@dataclass(frozen=True)
class OrderFacts:
    """What the customer is told about one order, read inside the transaction."""

    order_id: int
    number: str
    status: str
    placed_at: Any
    shipped_at: Any
    delivered_at: Any
    carrier: str
    tracking_number: str
    lines: list[tuple[int, str, str]]  # quantity, name_en, name_zh


def customer_order(session: Session, customer_id: int, number: str | None) -> OrderFacts | None:
    """The customer's order with that number (their latest when ``None``); never another customer's."""
    query = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .options(selectinload(Order.lines).selectinload(OrderLine.product))
    )
    if number:
        query = query.where(Order.order_number == number)
    order = session.scalars(query.order_by(Order.placed_at.desc(), Order.id.desc()).limit(1)).first()
    if order is None:
        return None
    return OrderFacts(
        order_id=order.id,
        number=order.order_number,
        status=order.status.value,
        placed_at=order.placed_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        lines=[(line.quantity, line.product.name_en, line.product.name_zh) for line in order.lines],
    )


def describe_order(facts: OrderFacts, lang: str) -> str:
    """The order's status, dates, carrier, tracking number and lines in ``lang``."""
    parts = [
        i18n.t(
            "order.summary",
            lang,
            number=facts.number,
            placed=i18n.day(facts.placed_at),
            status=i18n.t(f"order.status.{facts.status}", lang),
        )
    ]
    if facts.shipped_at:
        parts.append(
            i18n.t(
                "order.shipped",
                lang,
                date=i18n.day(facts.shipped_at),
                carrier=facts.carrier or "-",
                tracking=facts.tracking_number or "-",
            )
        )
    if facts.delivered_at:
        parts.append(i18n.t("order.delivered", lang, date=i18n.day(facts.delivered_at)))
    lines = [i18n.t("order.line", lang, quantity=qty, name=zh if lang == "zh" else en) for qty, en, zh in facts.lines]
    if lines:
        parts.append(i18n.t("order.lines", lang, lines=i18n.join(lines, lang)))
    return " ".join(parts) if lang == "en" else "".join(parts)


class ActionOrderStatus(ShopAction):
    """Status of the order named in the message, or of the customer's latest order."""

    def name(self) -> str:
        return "action_order_status"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if turn.customer is None:
            say(dispatcher, turn.t("order.anonymous"))
            return []
        number = find_order_number(turn.text)
        customer_id = turn.customer.id
        facts = await turn.db(lambda session: customer_order(session, customer_id, number))
        if facts is None:
            # An unknown number and another customer's number read the same: nothing leaks.
            say(dispatcher, turn.t("order.not_found") if number else turn.t("order.none"))
            return []
        say(dispatcher, describe_order(facts, turn.lang))
        if facts.status == OrderStatus.DELIVERED.value and delivered_recently(facts.delivered_at, turn.now):
            ranked, version = await model_ranking(turn, tracker, "service", SERVICE_CANDIDATES)
            offers = await turn.db(lambda session: offer_after_delivery(session, turn, facts.order_id, ranked, version))
            if offers:
                product = offers[0].for_product
                name = (product[1] if turn.lang == "zh" else product[0]) if product else ""
                lines = [turn.t("service.after_delivery", product=name), *(service_line(o, turn) for o in offers)]
                say(dispatcher, "\n".join(lines))
        return []


def offer_after_delivery(session: Session, turn: Turn, order_id: int, ranked_codes: list[str] | None = None,
                         model_version: str = "rules-v0") -> list[ServiceOffer]:
    """The services that help with a just-delivered order, in the model's order, recorded as shown.

    The rules decide which services apply; ``ranked_codes`` (the model's,
    ``None`` when it cannot rank) only orders them.
    """
    offers = after_delivery_offers(session, order_id, turn.now, ranked_codes)
    record_services_shown(session, turn, offers, ranked_codes, model_version)
    return offers


def shipping_methods(session: Session) -> list[tuple[str, str, int, int, Any, Any]]:
    """Every shipping method as (name_en, name_zh, days_min, days_max, fee, free_over), fastest last."""
    rows = session.scalars(select(ShippingMethod).order_by(ShippingMethod.days_max.desc(), ShippingMethod.id))
    return [(m.name_en, m.name_zh, m.days_min, m.days_max, m.fee, m.free_over) for m in rows]


class ActionDeliveryInfo(ShopAction):
    """Delivery times, fees and free-shipping thresholds from the shipping methods table."""

    def name(self) -> str:
        return "action_delivery_info"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        methods = await turn.db(shipping_methods)
        if not methods:
            say(dispatcher, turn.t("delivery.none"))
            return []
        lines = [turn.t("delivery.intro")]
        for name_en, name_zh, days_min, days_max, fee, free_over in methods:
            line = turn.t(
                "delivery.method",
                name=name_zh if turn.lang == "zh" else name_en,
                days_min=days_min,
                days_max=days_max,
                fee=turn.money(fee),
            )
            if free_over is not None:
                line += turn.t("delivery.free_over", amount=turn.money(free_over))
            lines.append(line)
        say(dispatcher, "\n".join(lines))
        return []
