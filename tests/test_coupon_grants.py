"""Make-good coupons under concurrency: complaints racing in several conversations, on SQLite and PostgreSQL.

Each racer is a thread with its own session and transaction, as two action
server workers answering two conversations of one customer would be.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from actions.coupon_grants import GrantResult, grant_make_good
from store.db import transaction
from store.models import Coupon, CouponGrant, RecEventType, RecommendationEvent
from tests.store_factory import NOW, build_store

RACERS = 6
PERIOD_DAYS = 90


def race(factory: sessionmaker[Session], customer_id: int, senders: list[str], limit: int) -> list[GrantResult | None]:
    """Every sender complains at the same moment; the results in sender order."""
    start = threading.Barrier(len(senders))

    def complain(sender_id: str) -> GrantResult | None:
        start.wait(timeout=30)
        with transaction(factory) as session:
            return grant_make_good(session, customer_id=customer_id, sender_id=sender_id, now=NOW, limit=limit,
                                   period_days=PERIOD_DAYS)

    with ThreadPoolExecutor(len(senders)) as pool:
        return list(pool.map(complain, senders))


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
