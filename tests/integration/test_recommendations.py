"""Recommendations end to end: Rasa, the action server, the real model server and the store API.

Each test reads what the bot showed from the database (the "shown" events
of its conversation), so assertions hold facts, not wording.
"""

from __future__ import annotations

import uuid
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store.models import (
    CouponGrant,
    Customer,
    ItemKind,
    Product,
    RecEventType,
    RecommendationEvent,
)

pytestmark = pytest.mark.integration


def shown(factory: sessionmaker[Session], sender: str, kind: ItemKind = ItemKind.PRODUCT) -> list[RecommendationEvent]:
    with factory() as session:
        return list(session.scalars(select(RecommendationEvent).where(
            RecommendationEvent.sender_id == sender, RecommendationEvent.kind == kind,
            RecommendationEvent.event == RecEventType.SHOWN).order_by(RecommendationEvent.id)))


def cards(replies: list[dict]) -> list[dict]:
    return [r for r in replies if r.get("buttons")]


def test_gift_request_gets_in_stock_items_with_reasons_from_the_model(chat_as, it_store):
    chat = chat_as("C00001")
    replies = chat.say("I need a gift for my dad, he likes running")
    events = shown(it_store, chat.sender)
    assert events, replies
    assert all(not e.fallback and e.model_version.startswith("gpt-tiny/") for e in events)
    with it_store() as session:
        products = [session.get(Product, e.item_id) for e in events]
    assert all(p.active and p.stock > 0 for p in products)
    shown_cards = cards(replies)
    assert len(shown_cards) == len(events)
    for card, product in zip(shown_cards, products):
        *_header, name_line, reason_line = card["text"].split("\n")  # the first card carries the header
        assert product.name_en in name_line and reason_line.strip()
        assert [b.get("payload", "")[:15] for b in card["buttons"][:2]] == ["/more_like_this", "/not_interested"]


def test_a_new_order_shapes_the_next_recommendation_and_is_attributed(chat_as, it_store, store_api):
    first = chat_as("C00003")
    first.say("can you recommend something for me?")
    before = shown(it_store, first.sender)
    assert before
    top = before[0]
    with it_store() as session:
        sku = session.get(Product, top.item_id).sku
    number = f"SO{uuid.uuid4().int % 10**8:08d}"
    # No placed_at: the store API stamps the order with its own clock, after the shown event.
    status, body = store_api("POST", "/v1/orders", {
        "order_number": number, "customer_id": "C00003", "lines": [{"sku": sku, "quantity": 1}]})
    assert status == 201, body
    assert body["attributed"], body  # shown a moment ago: inside the attribution window
    second = chat_as("C00003")
    second.say("can you recommend something for me?")
    after = shown(it_store, second.sender)
    assert after and top.item_id not in {e.item_id for e in after}


def test_repeated_coupon_requests_grant_once(chat_as, it_store):
    chat = chat_as("C00001")
    with it_store() as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.external_id == "C00001"))
        before = session.scalar(select(func.count()).select_from(CouponGrant).where(
            CouponGrant.customer_id == customer_id))
    for text in ("do you have any coupons for me?", "do you have any coupons for me?", "any discount codes?"):
        chat.say(text)
    with it_store() as session:
        after = session.scalar(select(func.count()).select_from(CouponGrant).where(
            CouponGrant.customer_id == customer_id))
    assert after - before == 1  # C00001 is eligible for coupons in the demo store


def test_forged_sender_gets_nothing_of_the_customer(chat_as, it_store):
    victim = chat_as("C00002")
    victim.say("推荐点东西给我")
    forged = chat_as(None, sender=victim.sender)
    replies = forged.say("recommend something for me")
    reasons = " ".join(r.get("text") or "" for r in replies)
    assert "Because you bought" not in reasons and "Because you told us" not in reasons
    assert "因为您" not in reasons
    events = shown(it_store, victim.sender)
    assert events and events[-1].customer_id is None


def test_model_server_stopped_mid_conversation_costs_no_reply(chat_as, it_store, stack):
    chat = chat_as("C00001")
    chat.say("hello")
    chat.say("recommend me something please")
    assert shown(it_store, chat.sender) and not shown(it_store, chat.sender)[-1].fallback
    model_server = stack.process("model server")
    model_server.stop()
    try:
        replies = chat.say("recommend me something else please")
        assert cards(replies), replies
        assert shown(it_store, chat.sender)[-1].fallback
    finally:
        model_server.start()
        model_server.wait_ready(180)
