"""Product questions: price, stock and key attributes of a product named in the text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions import i18n
from actions.base import ShopAction, Turn, say
from actions.matching import match_products, product_query

MAX_ATTRIBUTES = 5


@dataclass(frozen=True)
class ProductFacts:
    """What the customer is told about one product."""

    name_en: str
    name_zh: str
    price: Any
    stock: int
    brand: str
    attributes: dict[str, Any]

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def find_products(session: Session, text: str) -> list[ProductFacts]:
    """The products the text names: one when clear, up to three close matches, none otherwise."""
    return [
        ProductFacts(
            m.product.name_en,
            m.product.name_zh,
            m.product.price,
            m.product.stock,
            m.product.brand,
            m.product.attributes if isinstance(m.product.attributes, dict) else {},
        )
        for m in match_products(session, text)
    ]


def describe_product(facts: ProductFacts, turn: Turn) -> str:
    """Price, stock, brand and a few attributes in the turn's language."""
    stock = turn.t("product.in_stock", count=facts.stock) if facts.stock > 0 else turn.t("product.out_of_stock")
    parts = [turn.t("product.found", name=facts.name(turn.lang), price=turn.money(facts.price), stock=stock)]
    if facts.brand:
        parts.append(turn.t("product.brand", brand=facts.brand))
    details = [
        f"{key}: {value}"
        for key, value in list(facts.attributes.items())[:MAX_ATTRIBUTES]
        if isinstance(value, str | int | float)
    ]
    if details:
        parts.append(turn.t("product.details", details=i18n.join(details, turn.lang)))
    return (" " if turn.lang == "en" else "").join(parts)


class ActionProductInfo(ShopAction):
    """Answers price and stock of a named product, or asks which one when several match."""

    def name(self) -> str:
        return "action_product_info"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if len(product_query(turn.text)) < 2:
            say(dispatcher, turn.t("product.ask_name"))
            return []
        text = turn.text
        found = await turn.db(lambda session: find_products(session, text))
        if not found:
            say(dispatcher, turn.t("product.none"))
        elif len(found) == 1:
            say(dispatcher, describe_product(found[0], turn))
        else:
            buttons = [
                {
                    "title": f"{facts.name(turn.lang)} - {turn.money(facts.price)}",
                    "payload": turn.t("product.choice_payload", name=facts.name(turn.lang)),
                }
                for facts in found
            ]
            say(dispatcher, turn.t("product.which"), buttons)
        return []
