"""Product info with fuzzy names in both languages (recommendations: test_actions_recommend.py)."""

from __future__ import annotations

from actions.products import ActionProductInfo
from tests.store_factory import run_action, tracker


PRODUCT_QUESTIONS = [
    ("how much are the trail running shoes?", "en", ["Trail Running Shoes", "399.00", "In stock"]),
    ("trial runing shoes price", "en", ["Trail Running Shoes"]),
    ("越野跑鞋多少钱", "zh", ["越野跑鞋", "399.00", "有货"]),
    ("电热水壶有货吗", "zh", ["电热水壶", "库存 3"]),
    ("is SKU-SPK-1 in stock", "en", ["Bluetooth Speaker", "7"]),
    ("do you have wireless earbuds", "en", ["Wireless Earbuds", "Out of stock"]),
]


def test_product_info_fuzzy_in_both_languages(store):
    for text, lang, facts in PRODUCT_QUESTIONS:
        out = run_action(ActionProductInfo(), tracker(text))
        assert out.slot("lang") == lang, text
        for fact in facts:
            assert fact in out.text, (text, fact)


def test_product_info_shows_attributes(store):
    out = run_action(ActionProductInfo(), tracker("Trail Running Shoes"))
    assert "39-45" in out.text and "Acme" in out.text


def test_several_close_matches_ask_which_with_buttons(store):
    out = run_action(ActionProductInfo(), tracker("running shoes price"))
    titles = " ".join(b["title"] for b in out.buttons)
    assert 2 <= len(out.buttons) <= 3
    assert "Trail Running Shoes" in titles and "Road Running Shoes" in titles
    chosen = out.buttons[0]["payload"]
    again = run_action(ActionProductInfo(), tracker(chosen))
    assert again.buttons == [] and ("399.00" in again.text or "459.00" in again.text)


def test_chinese_close_matches_ask_in_chinese(store):
    out = run_action(ActionProductInfo(), tracker("跑鞋多少钱"))
    assert out.slot("lang") == "zh" and {"越野跑鞋", "公路跑鞋"} <= {b["title"].split(" - ")[0] for b in out.buttons}


def test_unknown_and_inactive_products_are_not_found(store):
    for text in ("how much is a pony", "retired desk lamp price", "旧台灯多少钱"):
        out = run_action(ActionProductInfo(), tracker(text))
        assert out.buttons == [] and "89.00" not in out.text and out.text, text
