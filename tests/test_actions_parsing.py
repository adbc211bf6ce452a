"""Pure parsing: budgets, order numbers, cleaning, payloads, and category detection in both languages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.matching import detect_category
from actions.textparse import clean_text, find_order_number, is_payload, parse_budget, payload_entities
from store.models import Category


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("under 200", "200"),
        ("below $50", "50"),
        ("less than ¥300 please", "300"),
        ("gift for dad under 1,000?", "1000"),
        ("max 99.5 yuan", "99.5"),
        ("200以内", "200"),
        ("预算300", "300"),
        ("不超过500块", "500"),
        ("500元以下", "500"),
        ("我要一个200块以内的耳机", "200"),
        ("running shoes", None),
        ("size 42 shoes", None),
        ("under 0", None),
        ("SO12345678", None),
    ],
)
def test_budget(text, budget):
    assert parse_budget(text) == (Decimal(budget) if budget else None)


def test_order_number_anywhere_in_either_language():
    assert find_order_number("订单SO12345678到哪了") == "SO12345678"
    assert find_order_number("status of so12345678?") == "SO12345678"
    assert find_order_number("SO123456789") is None and find_order_number("XSO12345678") is None
    assert find_order_number("") is None


def test_clean_text_cuts_and_neutralizes_control_characters():
    assert clean_text("a\x00b\n\tc\u202ed😀", 100) == "a b c d😀"
    assert clean_text("x" * 50, 10) == "x" * 10
    assert clean_text(None, 10) == "" and clean_text(["a"], 10) == ""


def test_payloads():
    assert is_payload("/affirm") and is_payload('/inform{"line_id":"3"}') and not is_payload("/ not a payload")
    assert payload_entities('/inform{"line_id":"3"}') == {"line_id": "3"}
    assert payload_entities("/inform{broken") == {} and payload_entities('/inform["x"]') == {}


def test_category_detection(session_factory):
    with session_factory() as s, s.begin():
        s.add_all(
            [
                Category(code="coffee", name_en="Coffee & Tea", name_zh="咖啡与茶"),
                Category(code="coffee_machines", name_en="Coffee Machines", name_zh="咖啡机"),
                Category(code="phones", name_en="Phones", name_zh="手机"),
                Category(code="phone_acc", name_en="Phone Accessories", name_zh="手机配件"),
                Category(code="sports", name_en="Sports & Running", name_zh="运动户外"),
            ]
        )
    expected = {
        "a coffee machine for the office": "coffee_machines",
        "good coffee beans": "coffee",
        "手机配件推荐": "phone_acc",
        "新手机": "phones",
        "something for my dad, he runs": "sports",
        "跑步用的": "sports",
        "hello": None,
        "": None,
    }
    with session_factory() as s:
        for text, code in expected.items():
            category = detect_category(s, text)
            assert (category.code if category else None) == code, text
