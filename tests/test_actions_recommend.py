"""Recommendations in the chat: product cards from the model or the fallback, feedback, coupons, services.

The model server is a boundary here: ``StubModelServer`` is a real HTTP
server on a real port that answers what a test sets (or hangs, or fails),
so the actions' client, time bound and fallback run for real. The real
model server is exercised end to end in ``tests/integration``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from actions.context import model_client_for, set_context
from actions.handoff import ActionHandoff
from actions.orders import ActionOrderStatus
from actions.recommend import (
    ActionMoreLikeThis,
    ActionNotInterested,
    ActionRecommendCoupons,
    ActionRecommendProducts,
    ActionRecommendServices,
    SERVICE_CANDIDATES,
)
from recommender.serving.schemas import RecommendBody
from store.models import CouponGrant, ItemKind, Product, RecEventType, RecommendationEvent
from tests.store_factory import ALICE, BOB, CAROL, make_context, run_action, tracker


def events(factory, sender_id="conv-1", event=RecEventType.SHOWN) -> list[RecommendationEvent]:
    with factory() as s:
        return list(s.scalars(select(RecommendationEvent).where(
            RecommendationEvent.sender_id == sender_id, RecommendationEvent.event == event)
            .order_by(RecommendationEvent.id)))


def card_messages(out) -> list[dict[str, Any]]:
    return [m for m in out.messages if m.get("buttons")]


# --- fallback (no model server) ---------------------------------------------------------------------


def test_fallback_best_sellers_in_category_and_budget_as_cards(store, session_factory):
    out = run_action(ActionRecommendProducts(), tracker("recommend running shoes under 420", customer=CAROL))
    # Units in the last 90 days in shoes: socks 5, trail 1 (road is over budget).
    assert out.text.index("Running Socks") < out.text.index("Trail Running Shoes")
    assert "Road Running Shoes" not in out.text and "best seller" in out.text.lower()
    shown = events(session_factory)
    assert [e.item_id for e in shown] == [store["socks"], store["trail"]]
    assert all(e.model_version == "fallback-v1" and e.fallback and e.reason == "bestseller" for e in shown)
    cards = card_messages(out)
    assert len(cards) == 2
    more, dismiss, view = cards[0]["buttons"]
    assert more["payload"] == '/more_like_this{"sku": "SKU-SOCK-1"}'
    assert dismiss["payload"] == '/not_interested{"sku": "SKU-SOCK-1"}'
    assert view["type"] == "web_url" and f"/r/{shown[0].id}?sig=" in view["url"]


def test_card_links_point_at_the_configured_public_url(store, session_factory):
    set_context(make_context(session_factory, public_url="https://shop.example.com/assist/"))
    out = run_action(ActionRecommendProducts(), tracker("any speakers?", customer=CAROL))
    first = events(session_factory)[0]
    view = card_messages(out)[0]["buttons"][2]
    assert view["url"] == view["payload"]
    assert view["url"].startswith(f"https://shop.example.com/assist/r/{first.id}?sig=")


def test_just_bought_products_are_not_offered_again(store, session_factory):
    # Alice bought trail shoes and socks 8 days ago and road shoes yesterday; none is a consumable.
    out = run_action(ActionRecommendProducts(), tracker("any running shoes for me?", customer=ALICE))
    assert not {store["trail"], store["socks"], store["road"]} & {e.item_id for e in events(session_factory)}
    assert out.text


def test_fallback_starts_with_co_purchase_neighbours(store, session_factory):
    # Bob bought socks; trail shoes were bought in the same order as socks (Alice's SO10000001).
    out = run_action(ActionRecommendProducts(), tracker("推荐点鞋子", customer=BOB))
    first = events(session_factory)[0]
    assert first.item_id == store["trail"] and first.reason.startswith("co_purchase:")
    assert "常与您买过的跑步袜一起购买" in out.text and out.slot("lang") == "zh"


def test_anonymous_visitors_get_cards_and_an_invitation_to_sign_in(store, session_factory):
    out = run_action(ActionRecommendProducts(), tracker("any speakers?"))
    assert "Bluetooth Speaker" in out.text and "sign in" in out.text.lower()
    assert all(e.customer_id is None for e in events(session_factory))


def test_out_of_stock_inactive_and_nothing_in_budget(store, session_factory):
    out = run_action(ActionRecommendProducts(), tracker("推荐耳机之类的数码产品"))
    assert "无线耳机" not in out.text and "蓝牙音箱" in out.text
    out = run_action(ActionRecommendProducts(), tracker("预算30，推荐点鞋子", sender_id="conv-2"))
    assert out.slot("lang") == "zh" and out.text and events(session_factory, "conv-2") == []


# --- feedback ----------------------------------------------------------------------------------------


def test_not_interested_is_recorded_and_respected(store, session_factory):
    run_action(ActionRecommendProducts(), tracker("running shoes please", customer=CAROL))
    payload = '/not_interested{"sku": "SKU-SOCK-1"}'
    out = run_action(ActionNotInterested(), tracker(payload, customer=CAROL, intent="not_interested",
                                                    entities=[{"entity": "sku", "value": "SKU-SOCK-1"}]))
    assert "won't suggest Running Socks" in out.text
    [dismissal] = events(session_factory, event=RecEventType.DISMISSED)
    assert dismissal.item_id == store["socks"] and dismissal.rank == 1 and dismissal.model_version == "fallback-v1"
    again = run_action(ActionRecommendProducts(), tracker("running shoes please", customer=CAROL, sender_id="c2"))
    assert "Running Socks" not in again.text and "Trail Running Shoes" in again.text


def test_more_like_this_records_a_click_and_shows_new_similar_items(store, session_factory):
    run_action(ActionRecommendProducts(), tracker("shoes under 420", customer=CAROL))
    out = run_action(ActionMoreLikeThis(), tracker('/more_like_this{"sku": "SKU-SHOE-1"}', customer=CAROL))
    [click] = events(session_factory, event=RecEventType.CLICKED)
    assert click.item_id == store["trail"]
    assert out.text.startswith("More like Trail Running Shoes:")
    assert "Road Running Shoes" in out.text and "Running Socks" not in out.text  # socks were shown already


def test_feedback_on_an_unknown_sku_says_so(store, session_factory):
    for action in (ActionMoreLikeThis(), ActionNotInterested()):
        out = run_action(action, tracker('/not_interested{"sku": "NOPE"}', customer=CAROL))
        assert "couldn't find that product" in out.text
    assert events(session_factory, event=RecEventType.DISMISSED) == []


# --- coupons -----------------------------------------------------------------------------------------


def grants(factory) -> list[CouponGrant]:
    with factory() as s:
        return list(s.scalars(select(CouponGrant).order_by(CouponGrant.id)))


def test_coupon_is_granted_once_per_conversation(store, session_factory):
    first = run_action(ActionRecommendCoupons(), tracker("any coupons for me?", customer=ALICE))
    assert "added this coupon" in first.text and "WELCOME10" in first.text
    again = run_action(ActionRecommendCoupons(), tracker("give me a coupon", customer=ALICE))
    assert "already in your account" in again.text and "WELCOME10" in again.text
    assert [(g.coupon_id, g.source) for g in grants(session_factory)] == [(store["welcome"], "chat")]
    assert len(events(session_factory, event=RecEventType.GRANTED)) == 1
    other = run_action(ActionRecommendCoupons(), tracker("coupon?", customer=ALICE, sender_id="conv-2"))
    assert "GOLD50" in other.text  # WELCOME10 is at its per-customer limit; GOLD50 needs gold tier: Alice is gold


def test_coupons_follow_tier_and_language(store, session_factory):
    bob = run_action(ActionRecommendCoupons(), tracker("有优惠券吗", customer=BOB, sender_id="conv-bob"))
    assert "WELCOME10" in bob.text and bob.slot("lang") == "zh"
    bob2 = run_action(ActionRecommendCoupons(), tracker("还有别的优惠券吗", customer=BOB, sender_id="conv-bob2"))
    assert "GOLD50" not in bob2.text and "SORRY20" not in bob2.text and "EXPIRED5" not in bob2.text


def test_racing_coupon_turns_grant_once(store, session_factory):
    turn = tracker("coupon please", customer=ALICE)

    async def both() -> None:
        await asyncio.gather(ActionRecommendCoupons().run(_Dispatcher(), turn, {}),
                             ActionRecommendCoupons().run(_Dispatcher(), turn, {}))

    asyncio.run(both())
    assert len(grants(session_factory)) == 1


class _Dispatcher:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def utter_message(self, **kwargs: Any) -> None:
        self.messages.append(kwargs)


def test_anonymous_coupon_request_is_asked_to_sign_in(store, session_factory):
    out = run_action(ActionRecommendCoupons(), tracker("any discount codes?"))
    assert "sign in" in out.text.lower() and grants(session_factory) == []


def test_make_good_coupon_after_a_complaint_within_the_limit(store, session_factory):
    complaint = tracker("my parcel arrived damaged, this is terrible", customer=ALICE, intent="complain")
    out = run_action(ActionHandoff(), complaint)
    assert "make up for the trouble" in out.text and "SORRY20" in out.text
    run_action(ActionHandoff(), complaint)  # repeated in the same conversation: same grant
    later = run_action(ActionHandoff(), tracker("still broken!", customer=ALICE, intent="complain", sender_id="c9"))
    assert "SORRY20" not in later.text  # one make-good per 90 days
    assert [g.source for g in grants(session_factory)] == ["make_good"]
    request = run_action(ActionHandoff(), tracker("can I talk to a person", customer=BOB, intent="request_human"))
    assert "优惠券" not in request.text and "coupon" not in request.text


# --- services ----------------------------------------------------------------------------------------


def test_services_after_a_delivered_order_status(store, session_factory):
    out = run_action(ActionOrderStatus(), tracker("我的订单SO20000001到哪了", customer=BOB))
    assert "水壶除垢服务" in out.text and "电热水壶" in out.text
    assert [e.item_id for e in events(session_factory)] == [store["kettle_setup"]]
    old = run_action(ActionOrderStatus(), tracker("status of SO10000002", customer=ALICE, sender_id="c2"))
    assert "Warranty" not in old.text  # delivered 60 days ago: too late to help
    shipped = run_action(ActionOrderStatus(), tracker("status of SO10000003", customer=ALICE, sender_id="c3"))
    assert "Descaling" not in shipped.text  # not delivered yet


def test_services_for_owned_products_name_the_product(store, session_factory):
    owned = run_action(ActionRecommendServices(), tracker("what services can I get?", customer=ALICE))
    assert "Kettle Descaling Plan" in owned.text and "for your Electric Kettle" in owned.text
    category = run_action(ActionRecommendServices(), tracker("warranty for electronics?", sender_id="conv-2"))
    assert "Extended Warranty" in category.text and "Gift Wrapping" not in category.text
    assert {e.kind for e in events(session_factory, "conv-2")} == {ItemKind.SERVICE}


# --- the model server as a boundary ------------------------------------------------------------------


class StubModelServer:
    """A real HTTP server in a thread that answers ``POST /v1/recommend`` as a test says."""

    def __init__(self) -> None:
        self.body: dict[str, Any] = {"items": [], "model_version": "stub"}
        self.status = 200
        self.delay_s = 0.0
        self.requests: list[dict[str, Any]] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        await asyncio.sleep(self.delay_s)
        return web.json_response(self.body, status=self.status)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/v1/recommend", self._handle)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> StubModelServer:
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)


@pytest.fixture
def model_server(store, session_factory):
    with StubModelServer() as server:
        context = make_context(session_factory, recommend_timeout_s=0.5)
        settings = context.settings.model_copy(update={"model_port": server.port})
        set_context(replace(context, model_client=model_client_for(settings)))
        yield server


def item(sku: str, score: float, evidence: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": sku, "name": sku, "score": score, "price": 1.0, "evidence": evidence or []}


def test_model_answer_becomes_cards_with_reasons_from_evidence(model_server, session_factory, store):
    model_server.body = {"model_version": "gpt-small/default/abc", "items": [
        item("SKU-EAR-1", -0.1),  # out of stock now: dropped
        item("SKU-SPK-1", -0.5, [{"type": "consultation", "text": "my dad likes music", "date": "2026-10-01",
                                  "weight": 1.2}, {"type": "purchase", "text": "x", "date": None, "weight": 0.3}]),
        item("SKU-SHOE-2", -0.9, [{"type": "conversation", "text": "this conversation", "date": None,
                                   "weight": 0.8}]),
        item("SKU-KET-1", -1.5)]}
    out = run_action(ActionRecommendProducts(), tracker("a gift for my dad", customer=CAROL))
    assert out.text.startswith("Picked for you")
    assert 'Because you told us: "my dad likes music" (2026-10-01)' in out.text
    assert "Fits what you asked for just now" in out.text and "Picked from your purchase history" in out.text
    shown = events(session_factory)
    assert [e.item_id for e in shown] == [store["speaker"], store["road"], store["kettle"]]
    assert all(e.model_version == "gpt-small/default/abc" and not e.fallback for e in shown)
    [request] = model_server.requests
    assert request["customer_id"] == CAROL and "a gift for my dad" in request["conversation"]
    assert request["kind"] == "product" and request["language"] == "en"


def test_budget_and_category_are_passed_and_rechecked(model_server, session_factory, store):
    model_server.body = {"model_version": "m", "items": [item("SKU-SHOE-2", -0.1), item("SKU-SOCK-1", -0.2)]}
    run_action(ActionRecommendProducts(), tracker("running shoes under 420", customer=CAROL))
    [request] = model_server.requests
    assert request["category"] == "shoes" and request["budget"] == 420.0
    assert [e.item_id for e in events(session_factory)] == [store["socks"]]  # road shoes cost 459


def test_like_last_time_asks_for_the_category_of_the_latest_order(model_server, store):
    run_action(ActionRecommendProducts(), tracker("something like last time", customer=ALICE))
    run_action(ActionRecommendProducts(), tracker("something like last time", sender_id="anon"))
    assert [r.get("category") for r in model_server.requests] == ["shoes", None]


@pytest.mark.parametrize("failure", ["slow", "error", "malformed", "empty"])
def test_model_failures_fall_back_within_the_time_bound(model_server, session_factory, store, failure):
    model_server.body = {"model_version": "m", "items": [item("SKU-SPK-1", 0.0)]}
    if failure == "slow":
        model_server.delay_s = 3.0
    elif failure == "error":
        model_server.status = 500
    elif failure == "malformed":
        model_server.body = {"things": []}
    else:
        model_server.body = {"model_version": "m", "items": [item("SKU-EAR-1", 0.0)]}  # nothing sellable
    started = time.monotonic()
    out = run_action(ActionRecommendProducts(), tracker("any speakers?", customer=CAROL))
    assert time.monotonic() - started < 2.5
    assert "Bluetooth Speaker" in out.text and out.text.startswith("Some ideas")
    assert all(e.fallback for e in events(session_factory))


def test_model_server_down_falls_back(store, session_factory):
    context = make_context(session_factory)
    settings = context.settings.model_copy(update={"model_port": _free_port()})
    set_context(replace(context, model_client=model_client_for(settings)))
    out = run_action(ActionRecommendProducts(), tracker("any speakers?", customer=CAROL))
    assert "Bluetooth Speaker" in out.text


def test_coupon_ranking_from_the_model_is_rechecked_against_the_rules(model_server, session_factory, store):
    model_server.body = {"model_version": "m", "items": [item("SORRY20", 0.0), item("GOLD50", -0.1)]}
    out = run_action(ActionRecommendCoupons(), tracker("coupon?", customer=ALICE))
    assert "GOLD50" in out.text and "SORRY20" not in out.text  # make-good coupons only after complaints
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(CouponGrant)) == 1
        assert s.scalar(select(Product.stock).where(Product.sku == "SKU-SPK-1")) == 7


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_requests_are_what_the_real_server_accepts(model_server, store):
    run_action(ActionRecommendProducts(), tracker("speakers " + "很好" * 900, customer=None))
    run_action(ActionRecommendCoupons(), tracker("coupon?", customer=BOB, sender_id="c2"))
    assert len(model_server.requests) == 2
    for request in model_server.requests:
        RecommendBody.model_validate_json(json.dumps(request))  # strict: raises on any field it would refuse
    assert model_server.requests[0]["customer_id"] is None


def test_conversation_sent_to_the_model_is_only_this_speakers(model_server, store):
    from tests.store_factory import token

    alice_said = {"event": "user", "text": "my dad loves jazz records", "metadata": {"token": token(ALICE)}}
    run_action(ActionRecommendProducts(), tracker("recommend something", events=[alice_said]))
    run_action(ActionRecommendProducts(), tracker("and for me?", customer=ALICE, events=[alice_said],
                                                  sender_id="c2"))
    anonymous, alice = model_server.requests
    assert anonymous["conversation"] == "recommend something"
    assert alice["conversation"] == "my dad loves jazz records\nand for me?"


def test_without_consent_the_model_sees_only_the_conversation(model_server, session_factory, store):
    from store.models import Customer

    with session_factory() as s, s.begin():
        s.get(Customer, store["bob"]).consent_personalization = False
    model_server.status = 503
    out = run_action(ActionRecommendProducts(), tracker("推荐点鞋子", customer=BOB))
    [request] = model_server.requests
    assert request["customer_id"] is None
    assert events(session_factory)[0].reason != "co_purchase:跑步袜" and "常与您买过的" not in out.text


def test_typed_feedback_applies_to_the_latest_picks(store, session_factory):
    run_action(ActionRecommendProducts(), tracker("shoes under 420", customer=CAROL))
    shown_first = [e.item_id for e in events(session_factory)]
    more = run_action(ActionMoreLikeThis(), tracker("show me similar ones", customer=CAROL, intent="more_like_this"))
    assert [e.item_id for e in events(session_factory, event=RecEventType.CLICKED)] == shown_first[:1]
    assert more.text.startswith("More like Running Socks:")
    out = run_action(ActionNotInterested(), tracker("don't recommend those again", customer=CAROL,
                                                    intent="not_interested"))
    dismissed = [e.item_id for e in events(session_factory, event=RecEventType.DISMISSED)]
    latest = [e.item_id for e in events(session_factory)][len(shown_first):]
    assert dismissed == latest and out.text.startswith("Got it")
    nothing = run_action(ActionNotInterested(), tracker("stop suggesting that", sender_id="fresh"))
    assert "couldn't find" in nothing.text


# --- services: the rules choose which, the model orders them ------------------------------------------


def service_events(factory, sender_id="conv-1") -> list[tuple[int, str, bool]]:
    return [(e.item_id, e.model_version, e.fallback) for e in events(factory, sender_id) if e.kind == ItemKind.SERVICE]


def delivered_order(factory, store, number: str, products: list[str]) -> None:
    """A delivered order of Carol's (two days ago) with one of each product."""
    from store.models import Order, OrderLine, OrderStatus
    from tests.store_factory import NOW

    with factory() as s, s.begin():
        lines = [OrderLine(product_id=store[key], quantity=1, unit_price=Decimal("10")) for key in products]
        s.add(Order(order_number=number, customer_id=store["carol"], status=OrderStatus.DELIVERED,
                    placed_at=NOW - timedelta(days=5), shipped_at=NOW - timedelta(days=4),
                    delivered_at=NOW - timedelta(days=2), lines=lines, total=Decimal("10") * len(lines)))


def test_services_come_in_the_models_order_with_its_version(model_server, session_factory, store):
    model_server.body = {"model_version": "gpt/svc", "items": [
        item("kettle_setup", 0.0), item("HAUL_AWAY", -0.1), item("warranty", -0.5)]}  # no gift_wrap: after them
    out = run_action(ActionRecommendServices(), tracker("what services can I get?", customer=ALICE))
    expected = [store["kettle_setup"], store["warranty"], store["gift_wrap"]]  # the rules' order: warranty first
    assert service_events(session_factory) == [(i, "gpt/svc", False) for i in expected]
    text = out.text
    assert text.index("Kettle Descaling Plan") < text.index("Extended Warranty") < text.index("Gift Wrapping")
    [request] = model_server.requests
    assert request["kind"] == "service" and request["customer_id"] == ALICE and request["explain"] is False
    assert request["k"] == SERVICE_CANDIDATES
    RecommendBody.model_validate_json(json.dumps(request))


def test_the_model_chooses_which_allowed_services_fit_the_limit(model_server, session_factory, store, monkeypatch):
    monkeypatch.setattr("actions.services.SERVICE_LIMIT", 2)
    model_server.body = {"model_version": "m", "items": [item("kettle_setup", 0.0), item("gift_wrap", -0.1)]}
    run_action(ActionRecommendServices(), tracker("what services can I get?", customer=ALICE))
    assert [i for i, _, _ in service_events(session_factory)] == [store["kettle_setup"], store["gift_wrap"]]


def test_a_service_the_rules_do_not_allow_is_never_offered(model_server, session_factory, store):
    model_server.body = {"model_version": "m", "items": [
        item("gift_wrap", 0.0), item("kettle_setup", -0.1), item("warranty", -0.2)]}
    out = run_action(ActionRecommendServices(), tracker("warranty for electronics?", customer=ALICE))
    assert "Extended Warranty" in out.text and "Gift Wrapping" not in out.text and "Kettle" not in out.text
    assert service_events(session_factory) == [(store["warranty"], "m", False)]
    # The model ranked none of what the rules allow here: the rules' order, recorded as theirs.
    model_server.body = {"model_version": "m", "items": [item("gift_wrap", 0.0)]}
    again = run_action(ActionRecommendServices(), tracker("warranty for electronics?", customer=ALICE,
                                                          sender_id="conv-2"))
    assert "Extended Warranty" in again.text and "Gift Wrapping" not in again.text
    assert service_events(session_factory, "conv-2") == [(store["warranty"], "rules-v0", True)]


def test_after_delivery_services_come_in_the_models_order(model_server, session_factory, store):
    delivered_order(session_factory, store, "SO30000001", ["speaker", "kettle", "trail"])
    model_server.body = {"model_version": "gpt/svc", "items": [
        item("gift_wrap", 0.0), item("kettle_setup", -0.1), item("warranty", -0.2)]}  # gift wrap: not after delivery
    out = run_action(ActionOrderStatus(), tracker("status of SO30000001", customer=CAROL))
    assert out.text.startswith("Order SO30000001")
    assert "help with your Electric Kettle" in out.text and "Gift Wrapping" not in out.text
    assert out.text.index("Kettle Descaling Plan") < out.text.index("Extended Warranty")
    assert service_events(session_factory) == [(store["kettle_setup"], "gpt/svc", False),
                                               (store["warranty"], "gpt/svc", False)]
    [request] = model_server.requests
    assert request["kind"] == "service" and request["customer_id"] == CAROL


def test_no_model_call_for_an_order_delivered_too_long_ago(model_server, store):
    run_action(ActionOrderStatus(), tracker("status of SO10000002", customer=ALICE))
    assert model_server.requests == []


@pytest.mark.parametrize("failure", ["slow", "error", "malformed"])
def test_services_keep_the_rules_order_when_the_model_cannot_answer(model_server, session_factory, store, failure):
    model_server.body = {"model_version": "m", "items": [item("kettle_setup", 0.0), item("gift_wrap", -0.1)]}
    if failure == "slow":
        model_server.delay_s = 3.0
    elif failure == "error":
        model_server.status = 500
    else:
        model_server.body = {"things": []}
    delivered_order(session_factory, store, "SO30000001", ["speaker", "kettle"])
    started = time.monotonic()
    owned = run_action(ActionRecommendServices(), tracker("what services can I get?", customer=ALICE))
    status = run_action(ActionOrderStatus(), tracker("status of SO30000001", customer=CAROL, sender_id="conv-2"))
    assert time.monotonic() - started < 3.5  # two turns, each bounded by the 0.5 s timeout
    text = owned.text
    assert text.index("Extended Warranty") < text.index("Gift Wrapping") < text.index("Kettle Descaling Plan")
    rules = [store["warranty"], store["gift_wrap"], store["kettle_setup"]]
    assert service_events(session_factory) == [(i, "rules-v0", True) for i in rules]
    assert "SO30000001" in status.text and status.text.index("Extended Warranty") < status.text.index("Kettle Descaling")
    assert service_events(session_factory, "conv-2") == [(store["warranty"], "rules-v0", True),
                                                         (store["kettle_setup"], "rules-v0", True)]


def test_services_for_visitors_and_without_consent(model_server, session_factory, store):
    from store.models import Customer

    model_server.body = {"model_version": "m", "items": [item("gift_wrap", 0.0)]}
    visitor = run_action(ActionRecommendServices(), tracker("warranty for electronics?", sender_id="anon"))
    assert "Extended Warranty" in visitor.text and model_server.requests == []  # nothing to personalise
    assert service_events(session_factory, "anon") == [(store["warranty"], "rules-v0", True)]
    with session_factory() as s, s.begin():
        s.get(Customer, store["bob"]).consent_personalization = False
    run_action(ActionRecommendServices(), tracker("有什么服务", customer=BOB, sender_id="conv-bob"))
    [request] = model_server.requests
    assert request["customer_id"] is None and request["kind"] == "service"
