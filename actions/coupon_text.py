"""How a coupon reads in the chat: name, code, discount, minimum spend and end date."""

from __future__ import annotations

from decimal import Decimal

from actions import i18n
from actions.base import Turn
from store.models import Coupon


def describe_coupon(coupon: Coupon, turn: Turn) -> str:
    """One coupon: name, code, discount, minimum spend and end date."""
    min_spend = turn.t("coupon.min_spend", amount=turn.money(coupon.min_spend)) if coupon.min_spend else ""
    name = coupon.name_zh if turn.lang == "zh" else coupon.name_en
    if coupon.discount_type == "percent":
        return turn.t("coupon.percent", name=name, code=coupon.code, value=_plain_number(coupon.discount_value),
                      min_spend=min_spend, until=i18n.day(coupon.valid_to))
    return turn.t("coupon.amount", name=name, code=coupon.code, value=turn.money(coupon.discount_value),
                  min_spend=min_spend, until=i18n.day(coupon.valid_to))


def _plain_number(value: Decimal) -> str:
    """15.00 -> "15", 7.50 -> "7.5"."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
