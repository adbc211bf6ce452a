"""Coupon grants under concurrency: chat requests and complaints racing in several conversations, on both backends.

Each racer is a thread with its own session and transaction, as two action
server workers answering two conversations of one customer would be.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from actions.coupon_grants import GrantResult, grant_chat, grant_make_good
from store.db import transaction
from store.models import Coupon, CouponGrant, ItemKind, RecEventType, RecommendationEvent
from tests.store_factory import NOW, build_store

RACERS = 6
PERIOD_DAYS = 90
T = TypeVar("T")


def at_once(factory: sessionmaker[Session], senders: list[str], work: Callable[[Session, str], T]) -> list[T]:
    """``work(session, sender)`` for every sender at the same moment, each in its own transaction; sender order."""
    start = threading.Barrier(len(senders))

    def one(sender_id: str) -> T:
        start.wait(timeout=30)
        with transaction(factory) as session:
            return work(session, sender_id)

    with ThreadPoolExecutor(len(senders)) as pool:
        return list(pool.map(one, senders))


def race(factory: sessionmaker[Session], customer_id: int, senders: list[str], limit: int) -> list[GrantResult | None]:
    """Every sender complains at the same moment; the results in sender order."""
    return at_once(factory, senders, lambda session, sender_id: grant_make_good(
        session, customer_id=customer_id, sender_id=sender_id, now=NOW, limit=limit, period_days=PERIOD_DAYS))


def chat_race(factory: sessionmaker[Session], customer_id: int, senders: list[str],
              ranked_codes: list[str] | None = None) -> list[GrantResult | None]:
    """Every sender asks for a coupon at the same moment (the model ranking ``ranked_codes``); sender order."""
    return at_once(factory, senders, lambda session, sender_id: grant_chat(
        session, customer_id=customer_id, sender_id=sender_id, now=NOW, ranked_codes=ranked_codes,
        model_version="model-test"))


def chat_grants(factory: sessionmaker[Session], customer_id: int) -> dict[int, int]:
    """The customer's chat grants per coupon: ``{coupon_id: count}``."""
    with factory() as s:
        rows = s.execute(select(CouponGrant.coupon_id, func.count()).where(
            CouponGrant.customer_id == customer_id, CouponGrant.source == "chat").group_by(CouponGrant.coupon_id))
        return {coupon_id: count for coupon_id, count in rows}


def set_limits(factory: sessionmaker[Session], limits: dict[int, int]) -> None:
    """Set ``per_customer_limit`` of each coupon id."""
    with factory() as s, s.begin():
        for coupon_id, limit in limits.items():
            s.execute(update(Coupon).where(Coupon.id == coupon_id).values(per_customer_limit=limit))


def make_good_grants(factory: sessionmaker[Session], customer_id: int) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(CouponGrant).join(Coupon, Coupon.id == CouponGrant.coupon_id)
                        .where(CouponGrant.customer_id == customer_id, Coupon.make_good.is_(True)))


@pytest.mark.parametrize("limit", [1, 2])
def test_racing_complaints_in_many_conversations_get_exactly_the_limit(session_factory, limit):
    refs = build_store(session_factory)
    with session_factory() as s, s.begin():
        # Only make_good_limit may bind here, not the coupon's own per-customer limit.
        s.execute(update(Coupon).where(Coupon.id == refs["make_good"]).values(per_customer_limit=RACERS))
    results = race(session_factory, refs["alice"], [f"conv-{n}" for n in range(RACERS)], limit)
    assert sum(1 for r in results if r is not None) == limit
    assert all(r.new and r.coupon.id == refs["make_good"] for r in results if r is not None)
    assert make_good_grants(session_factory, refs["alice"]) == limit
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(RecommendationEvent)
                        .where(RecommendationEvent.event == RecEventType.GRANTED)) == limit


def test_racing_turns_of_one_conversation_show_the_same_grant(session_factory):
    refs = build_store(session_factory)
    results = race(session_factory, refs["alice"], ["conv-1"] * RACERS, limit=3)
    assert {r.coupon.id for r in results if r is not None} == {refs["make_good"]}
    assert None not in results and sum(r.new for r in results if r is not None) == 1
    assert make_good_grants(session_factory, refs["alice"]) == 1
    again = race(session_factory, refs["alice"], ["conv-1"], limit=3)
    assert again[0] is not None and (again[0].coupon.id, again[0].new) == (refs["make_good"], False)


def test_a_limit_of_zero_grants_nothing_and_other_customers_are_not_held_back(session_factory):
    refs = build_store(session_factory)
    assert race(session_factory, refs["alice"], ["a-1", "a-2"], limit=0) == [None, None]
    bob, carol = race(session_factory, refs["bob"], ["b-1"], limit=1), race(session_factory, refs["carol"],
                                                                            ["c-1"], limit=1)
    assert bob[0] is not None and carol[0] is not None
    assert make_good_grants(session_factory, refs["alice"]) == 0


# --- chat grants: a coupon's per_customer_limit across conversations ------------------------------------


@pytest.mark.parametrize("limit", [1, 2])
def test_racing_chat_requests_in_many_conversations_get_at_most_the_per_customer_limit(session_factory, limit):
    refs = build_store(session_factory)
    with session_factory() as s, s.begin():
        s.execute(update(Coupon).where(Coupon.id == refs["gold"]).values(active=False))  # WELCOME10 alone is open
    set_limits(session_factory, {refs["welcome"]: limit})
    results = chat_race(session_factory, refs["alice"], [f"conv-{n}" for n in range(RACERS)])
    assert sum(1 for r in results if r is not None) == limit
    assert all(r.new and r.coupon.id == refs["welcome"] for r in results if r is not None)
    assert chat_grants(session_factory, refs["alice"]) == {refs["welcome"]: limit}
    with session_factory() as s:
        granted = s.scalars(select(RecommendationEvent).where(RecommendationEvent.event == RecEventType.GRANTED))
        rows = [(e.item_id, e.fallback, e.model_version) for e in granted]
    assert rows == [(refs["welcome"], True, "rules-v0")] * limit


def test_racing_chat_requests_share_out_every_coupon_within_its_own_limit(session_factory):
    refs = build_store(session_factory)
    set_limits(session_factory, {refs["welcome"]: 2, refs["gold"]: 1})
    results = chat_race(session_factory, refs["alice"], [f"conv-{n}" for n in range(RACERS)],
                        ranked_codes=["GOLD50", "WELCOME10"])
    granted = [r.coupon.code for r in results if r is not None]
    assert sorted(granted) == ["GOLD50", "WELCOME10", "WELCOME10"] and all(r.new for r in results if r is not None)
    assert chat_grants(session_factory, refs["alice"]) == {refs["gold"]: 1, refs["welcome"]: 2}
    with session_factory() as s:
        shown = s.scalars(select(RecommendationEvent).where(RecommendationEvent.event == RecEventType.SHOWN,
                                                            RecommendationEvent.kind == ItemKind.COUPON))
        assert sorted(e.item_id for e in shown) == sorted([refs["gold"], refs["welcome"], refs["welcome"]])


def test_racing_chat_turns_of_one_conversation_show_the_same_grant(session_factory):
    refs = build_store(session_factory)
    results = chat_race(session_factory, refs["alice"], ["conv-1"] * RACERS, ranked_codes=["WELCOME10"])
    assert None not in results and {r.coupon.id for r in results if r is not None} == {refs["welcome"]}
    assert sum(r.new for r in results if r is not None) == 1
    assert chat_grants(session_factory, refs["alice"]) == {refs["welcome"]: 1}


def test_chat_requests_and_complaints_racing_for_one_customer_each_stay_within_their_limits(session_factory):
    refs = build_store(session_factory)
    with session_factory() as s, s.begin():
        s.execute(update(Coupon).where(Coupon.id == refs["gold"]).values(active=False))
    senders = [f"conv-{n}" for n in range(RACERS)]

    def ask_or_complain(session: Session, sender_id: str) -> GrantResult | None:
        if int(sender_id.split("-")[1]) % 2:
            return grant_make_good(session, customer_id=refs["alice"], sender_id=sender_id, now=NOW, limit=RACERS,
                                   period_days=PERIOD_DAYS)
        return grant_chat(session, customer_id=refs["alice"], sender_id=sender_id, now=NOW, ranked_codes=None,
                          model_version="model-test")

    results = at_once(session_factory, senders, ask_or_complain)
    assert sorted(r.coupon.code for r in results if r is not None) == ["SORRY20", "WELCOME10"]
    assert chat_grants(session_factory, refs["alice"]) == {refs["welcome"]: 1}
    assert make_good_grants(session_factory, refs["alice"]) == 1
