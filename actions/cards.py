"""Recommendation cards: one chat message per product with its reason and three buttons.

Buttons: "more like this" and "not interested" send intents back to the bot
with the product's SKU; "view product" is a link through the store API's
click tracker (``store.api.clicks``), so a click is recorded before the
customer lands on the product page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from actions.base import Button, Turn
from actions.recommend_source import Reason
from store.api.clicks import click_url


@dataclass(frozen=True)
class Card:
    """A product as shown: its names, price, SKU, reason and the id of its "shown" event."""

    sku: str
    name_en: str
    name_zh: str
    price: Decimal
    reason: Reason
    event_id: int

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def reason_text(reason: Reason, turn: Turn) -> str:
    """The one-line reason in the turn's language."""
    if reason.kind == "model" and turn.anonymous:
        return turn.t("reason.model_anonymous")
    return turn.t(f"reason.{reason.kind}", subject=reason.subject, date=reason.date or "")


def payload(intent: str, sku: str) -> str:
    """A button payload that sends ``intent`` with the product's SKU as entity ``sku``."""
    return f"/{intent}" + json.dumps({"sku": sku}, ensure_ascii=False)


def card_buttons(card: Card, turn: Turn) -> list[Button]:
    """More like this, not interested, and the tracked link to the product page."""
    return [
        {"title": turn.t("rec.more_like_this"), "payload": payload("more_like_this", card.sku)},
        {"title": turn.t("rec.not_interested"), "payload": payload("not_interested", card.sku)},
        {
            "title": turn.t("rec.view"),
            "type": "web_url",
            "url": click_url(turn.context.settings, card.event_id),
            "payload": click_url(turn.context.settings, card.event_id),
        },
    ]


def card_text(rank: int, card: Card, turn: Turn) -> str:
    """The card's text: rank, name, price and reason."""
    return turn.t(
        "rec.card", rank=rank, name=card.name(turn.lang), price=turn.money(card.price), reason=reason_text(card.reason, turn)
    )
