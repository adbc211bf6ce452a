"""Product info with fuzzy names in both languages, and product, coupon and service recommendations."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from actions.context import set_context
from actions.products import ActionProductInfo
from actions.recommend import ActionRecommendCoupons, ActionRecommendProducts, ActionRecommendServices
from actions.recommend_source import Recommendation, Recommendations
from store.models import ItemKind, RecommendationEvent
from tests.store_factory import ALICE, BOB, CAROL, make_context, run_action, tracker


def shown(factory, sender_id="conv-1") -> list[RecommendationEvent]:
    with factory() as s:
        return list(
            s.scalars(
                select(RecommendationEvent)
                .where(RecommendationEvent.sender_id == sender_id)
                .order_by(RecommendationEvent.rank)
            )
        )


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


def test_best_sellers_in_category_within_budget_are_recorded(store, session_factory):
    out = run_action(ActionRecommendProducts(), tracker("recommend running shoes under 420", customer=ALICE))
    # Units in the last 90 days in shoes: socks 5, trail 1, road 1 (road is over budget).
    assert out.text.index("Running Socks") < out.text.index("Trail Running Shoes")
    assert "Road Running Shoes" not in out.text and "best sellers" in out.text.lower()
    events = shown(session_factory)
    assert [e.item_id for e in events] == [store["socks"], store["trail"]]
    assert all(
        e.kind == ItemKind.PRODUCT
        and e.model_version == "bestseller-v0"
        and not e.fallback
        and e.customer_id == store["alice"]
        for e in events
    )


def test_like_last_time_uses_the_category_of_the_latest_order(store, session_factory):
    # Alice's latest order (SO10000004) is road running shoes: the shoes category.
    out = run_action(ActionRecommendProducts(), tracker("something like last time", customer=ALICE))
    assert "Shoes" in out.text and "Running Socks" in out.text and "Speaker" not in out.text
    anonymous = run_action(ActionRecommendProducts(), tracker("something like last time", sender_id="conv-anon"))
    assert "Shoes" not in anonymous.text.split("\n")[0]


def test_out_of_stock_and_inactive_products_are_never_recommended(store, session_factory):
    out = run_action(ActionRecommendProducts(), tracker("推荐耳机之类的数码产品"))
    assert out.slot("lang") == "zh"
    assert "无线耳机" not in out.text  # cancelled order, and out of stock
    assert "蓝牙音箱" in out.text
    assert all(e.customer_id is None for e in shown(session_factory))


def test_budget_in_chinese_and_no_match(store, session_factory):
    out = run_action(ActionRecommendProducts(), tracker("预算30，推荐点鞋子"))
    assert out.slot("lang") == "zh" and out.text and shown(session_factory) == []


def test_coupons_follow_the_store_rules(store, session_factory):
    alice = run_action(ActionRecommendCoupons(), tracker("any coupons for me?", customer=ALICE))
    assert "WELCOME10" in alice.text and "GOLD50" in alice.text
    assert "EXPIRED5" not in alice.text and "SORRY20" not in alice.text
    bob = run_action(ActionRecommendCoupons(), tracker("有优惠券吗", customer=BOB, sender_id="conv-bob"))
    assert "WELCOME10" in bob.text and "GOLD50" not in bob.text and bob.slot("lang") == "zh"
    assert {e.kind for e in shown(session_factory)} == {ItemKind.COUPON}
    assert {e.item_id for e in shown(session_factory, "conv-bob")} == {store["welcome"]}


def test_coupons_ask_anonymous_visitors_to_sign_in(store, session_factory):
    out = run_action(ActionRecommendCoupons(), tracker("any discount codes?"))
    assert "sign in" in out.text.lower() and "WELCOME10" not in out.text
    assert shown(session_factory) == []


def test_services_for_owned_products_category_and_kind(store, session_factory):
    owned = run_action(ActionRecommendServices(), tracker("what services can I get?", customer=ALICE))
    # Alice owns shoes (gift wrap), a kettle (descaling) and a speaker (electronics warranty).
    assert all(name in owned.text for name in ("Gift Wrapping", "Kettle Descaling Plan", "Extended Warranty"))
    assert "products you own" in owned.text
    category = run_action(ActionRecommendServices(), tracker("warranty for electronics?", sender_id="conv-2"))
    assert "Extended Warranty" in category.text and "Gift Wrapping" not in category.text
    carol = run_action(
        ActionRecommendServices(), tracker("do you offer installation?", customer=CAROL, sender_id="conv-3")
    )
    assert "Kettle Descaling Plan" in carol.text
    assert {e.kind for e in shown(session_factory, "conv-2")} == {ItemKind.SERVICE}


class FixedSource:
    """A stand-in for the model-server client: always the speaker, as a fallback answer."""

    def __init__(self, product_id: int) -> None:
        self.product_id = product_id
        self.requests = []

    def recommend(self, session, request):
        self.requests.append(request)
        return Recommendations([Recommendation(self.product_id, 0.42, "model")], "gpt-rec-test", fallback=True)


def test_recommendation_source_is_replaceable_and_its_version_recorded(store, session_factory):
    source = FixedSource(store["speaker"])
    set_context(replace(make_context(session_factory), recommender=source))
    out = run_action(ActionRecommendProducts(), tracker("a gift for my dad under 300, he runs", customer=ALICE))
    assert "Bluetooth Speaker" in out.text and "best seller" not in out.text.lower()
    request = source.requests[0]
    assert request.customer_id == store["alice"] and request.category_id == store["shoes"]
    assert request.budget == 300
    [event] = shown(session_factory)
    assert (event.model_version, event.fallback, event.score, event.reason) == ("gpt-rec-test", True, 0.42, "model")
