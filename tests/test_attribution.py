"""Attribution of orders to recommendations (last touch within the window), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store.attribution import attribute_order, attributed_revenue, reverse_order_attribution
from store.models import (
    ItemKind,
    Order,
    OrderLine,
    RecEventType,
    RecommendationEvent,
    ServicePurchase,
)
from tests.store_factory import NOW, Refs, build_store

WINDOW = 7
PLACED = NOW - timedelta(hours=1)


@pytest.fixture
def refs(session_factory: sessionmaker[Session]) -> Refs:
    return build_store(session_factory)


def touch(session: Session, refs: Refs, item: str, *, at: datetime, who: str = "alice",
          kind: ItemKind = ItemKind.PRODUCT, event: RecEventType = RecEventType.SHOWN, **extra) -> int:
    """Record a shown (or other) event of ``item`` for ``who`` at ``at``; returns its id."""
    row = RecommendationEvent(customer_id=refs[who], sender_id=f"{who}-chat", created_at=at, kind=kind,
                              item_id=refs[item], event=event, **extra)
    session.add(row)
    session.flush()
    return row.id


def order(session: Session, refs: Refs, lines: list[tuple[str, int, str]], *, services: tuple[str, ...] = (),
          who: str = "alice", placed_at: datetime = PLACED, number: str = "SO90000001") -> Order:
    """A new paid order of ``lines`` (product key, quantity, unit price) and services at their list price."""
    new = Order(order_number=number, customer_id=refs[who], placed_at=placed_at)
    new.lines = [OrderLine(product_id=refs[p], quantity=q, unit_price=Decimal(price)) for p, q, price in lines]
    session.add(new)
    session.flush()
    session.add_all(ServicePurchase(order_id=new.id, service_id=refs[s], price=Decimal("59")) for s in services)
    session.flush()
    return new


def purchased(session: Session) -> list[RecommendationEvent]:
    return list(session.scalars(select(RecommendationEvent).where(
        RecommendationEvent.event == RecEventType.PURCHASED).order_by(RecommendationEvent.id)))


def test_a_line_shown_inside_the_window_is_credited_with_its_revenue_and_the_shown_details(session_factory, refs):
    with session_factory() as s, s.begin():
        shown = touch(s, refs, "trail", at=PLACED - timedelta(days=2), rank=2, score=0.5, model_version="gpt-v3",
                      fallback=True)
        new = order(s, refs, [("trail", 2, "380.00"), ("socks", 1, "49")])
        added = attribute_order(s, new, window_days=WINDOW, now=NOW)
    assert len(added) == 1
    with session_factory() as s:
        [event] = purchased(s)
        assert (event.kind, event.item_id, event.order_id) == (ItemKind.PRODUCT, refs["trail"], new.id)
        assert event.revenue == Decimal("760.00")
        assert (event.rank, event.score, event.model_version, event.fallback) == (2, 0.5, "gpt-v3", True)
        assert (event.customer_id, event.sender_id, event.created_at) == (refs["alice"], "alice-chat", NOW)
        assert str(shown) in event.reason


def test_touches_outside_the_window_after_the_order_or_of_someone_else_are_not_credited(session_factory, refs):
    with session_factory() as s, s.begin():
        touch(s, refs, "trail", at=PLACED - timedelta(days=WINDOW, seconds=1))
        touch(s, refs, "road", at=PLACED + timedelta(minutes=1))
        touch(s, refs, "speaker", at=PLACED - timedelta(days=1), who="bob")
        touch(s, refs, "kettle", at=PLACED - timedelta(days=1), event=RecEventType.DISMISSED)
        new = order(s, refs, [("trail", 1, "399"), ("road", 1, "459"), ("speaker", 1, "199"), ("kettle", 1, "129")])
        assert attribute_order(s, new, window_days=WINDOW, now=NOW) == []


def test_the_window_edge_counts_and_a_zero_window_credits_only_the_same_moment(session_factory, refs):
    with session_factory() as s, s.begin():
        touch(s, refs, "trail", at=PLACED - timedelta(days=WINDOW))
        touch(s, refs, "socks", at=PLACED)
        touch(s, refs, "road", at=PLACED - timedelta(seconds=1))
        first = order(s, refs, [("trail", 1, "399"), ("socks", 1, "49"), ("road", 1, "459")])
        assert {e.item_id for e in attribute_order(s, first, window_days=WINDOW, now=NOW)} == {
            refs["trail"], refs["socks"], refs["road"]}
        second = order(s, refs, [("socks", 1, "49"), ("road", 1, "459")], number="SO90000002")
        assert [e.item_id for e in attribute_order(s, second, window_days=0, now=NOW)] == [refs["socks"]]


def test_the_last_touch_wins_and_a_click_counts_as_a_touch(session_factory, refs):
    with session_factory() as s, s.begin():
        touch(s, refs, "trail", at=PLACED - timedelta(days=3), model_version="old", rank=1)
        touch(s, refs, "trail", at=PLACED - timedelta(days=1), model_version="new", rank=3,
              event=RecEventType.CLICKED)
        new = order(s, refs, [("trail", 1, "399")])
        [event] = attribute_order(s, new, window_days=WINDOW, now=NOW)
        assert (event.model_version, event.rank) == ("new", 3)
        assert "clicked" in event.reason


def test_services_are_credited_by_kind_and_a_product_touch_does_not_credit_a_service(session_factory, refs):
    with session_factory() as s, s.begin():
        touch(s, refs, "warranty", at=PLACED - timedelta(days=1), kind=ItemKind.SERVICE, model_version="svc")
        # A product whose id equals the gift wrap service's id must not credit the service.
        s.add(RecommendationEvent(customer_id=refs["alice"], sender_id="x", created_at=PLACED - timedelta(days=1),
                                  kind=ItemKind.PRODUCT, item_id=refs["gift_wrap"], event=RecEventType.SHOWN))
        new = order(s, refs, [("speaker", 1, "199")], services=("warranty", "gift_wrap"))
        [event] = attribute_order(s, new, window_days=WINDOW, now=NOW)
        assert (event.kind, event.item_id, event.revenue, event.model_version) == (
            ItemKind.SERVICE, refs["warranty"], Decimal("59"), "svc")


def test_attributing_the_same_order_twice_adds_nothing(session_factory, refs):
    with session_factory() as s, s.begin():
        touch(s, refs, "trail", at=PLACED - timedelta(days=1))
        touch(s, refs, "socks", at=PLACED - timedelta(days=1))
        new = order(s, refs, [("trail", 1, "399"), ("socks", 3, "49")])
        assert len(attribute_order(s, new, window_days=WINDOW, now=NOW)) == 2
    with session_factory() as s, s.begin():
        again = s.get(Order, new.id)
        assert attribute_order(s, again, window_days=WINDOW, now=NOW + timedelta(hours=1)) == []
        assert s.scalar(select(func.count()).select_from(RecommendationEvent).where(
            RecommendationEvent.event == RecEventType.PURCHASED)) == 2


def test_a_negative_window_is_refused(session_factory, refs):
    with session_factory() as s, s.begin():
        new = order(s, refs, [("trail", 1, "399")])
        with pytest.raises(ValueError, match="window_days"):
            attribute_order(s, new, window_days=-1, now=NOW)


def test_a_cancelled_order_is_reversed_once_and_left_out_of_the_revenue_totals(session_factory, refs):
    with session_factory() as s, s.begin():
        touch(s, refs, "trail", at=PLACED - timedelta(days=1), model_version="gpt-a", rank=1)
        touch(s, refs, "socks", at=PLACED - timedelta(days=1), model_version="gpt-b", rank=2)
        kept = order(s, refs, [("socks", 2, "49")], number="SO90000001")
        gone = order(s, refs, [("trail", 1, "399"), ("socks", 1, "49")], number="SO90000002")
        attribute_order(s, kept, window_days=WINDOW, now=NOW)
        attribute_order(s, gone, window_days=WINDOW, now=NOW)
        since, until = NOW - timedelta(days=1), NOW + timedelta(seconds=1)
        assert attributed_revenue(s, since=since, until=until) == {"gpt-a": Decimal("399.00"),
                                                                   "gpt-b": Decimal("147.00")}
        reversals = reverse_order_attribution(s, gone, now=NOW + timedelta(hours=1))
        expected = [(refs["trail"], Decimal("-399"), "gpt-a", 1), (refs["socks"], Decimal("-49"), "gpt-b", 2)]
        assert sorted((e.item_id, e.revenue, e.model_version, e.rank) for e in reversals) == sorted(expected)
        assert {e.order_id for e in reversals} == {gone.id}
        assert all(e.event is RecEventType.PURCHASE_CANCELLED for e in reversals)
        assert reverse_order_attribution(s, gone, now=NOW + timedelta(hours=2)) == []
        assert attributed_revenue(s, since=since, until=until) == {"gpt-b": Decimal("98.00")}
        assert attributed_revenue(s, since=since, until=NOW) == {}  # the purchases were recorded at NOW
        assert reverse_order_attribution(s, kept, now=NOW) != []
        assert attributed_revenue(s, since=since, until=until) == {}
